/* Socket options with the IP_PKTINFO page's rules, the same on every
 * platform: packet information only for datagram and raw sockets, both IP
 * levels on a dual-stack socket, and the IPv4-disabled exception. The
 * platform files give the primitives (pk_sys_setint, pk_sys_getint,
 * pk_sys_set_iface4, pk_sys_get_iface4, pk_probe_ipv4). */
#include "pk_sock.h"
#include "pk_gw.h"
#include "pk_offload.h"

#include <string.h>

/* The option that turns IPv6 packet information on: RFC 3542's
 * IPV6_RECVPKTINFO where it exists (on Linux IPV6_PKTINFO is the sticky
 * send option), else IPV6_PKTINFO (Windows). */
#ifdef IPV6_RECVPKTINFO
#define PK_IPV6_RECVPKTINFO IPV6_RECVPKTINFO
#else
#define PK_IPV6_RECVPKTINFO IPV6_PKTINFO
#endif

/* The IPv4 one: IP_RECVPKTINFO where it exists (macOS, where it is
 * IP_PKTINFO; NetBSD, whose IP_PKTINFO sets a default source instead),
 * else IP_PKTINFO (Linux, Windows). FreeBSD and OpenBSD have neither and
 * take IP_RECVDSTADDR with IP_RECVIF. */
#if defined(IP_RECVPKTINFO) && !defined(_WIN32)
#define PK_IP_RECVPKTINFO IP_RECVPKTINFO
#elif defined(IP_PKTINFO)
#define PK_IP_RECVPKTINFO IP_PKTINFO
#endif

/* What set_ipv4_half sets: an int, an interface, or packet information. */
enum { V4_INT, V4_IFACE, V4_PKTINFO };

/* Turns IPv4 packet information on or off. */
static int set_pktinfo4(pk_socket_t fd, int on)
{
#ifdef PK_IP_RECVPKTINFO
    return pk_sys_setint(fd, IPPROTO_IP, PK_IP_RECVPKTINFO, on);
#else
    int err = pk_sys_setint(fd, IPPROTO_IP, IP_RECVDSTADDR, on);
    return err ? err : pk_sys_setint(fd, IPPROTO_IP, IP_RECVIF, on);
#endif
}

/* Reads IPv4 packet information back: on only if every option it takes
 * is on. */
static int get_pktinfo4(pk_socket_t fd, int *on)
{
#ifdef PK_IP_RECVPKTINFO
    int err = pk_sys_getint(fd, IPPROTO_IP, PK_IP_RECVPKTINFO, on);
#else
    int dst = 0, ifx = 0;
    int err = pk_sys_getint(fd, IPPROTO_IP, IP_RECVDSTADDR, &dst);
    if (!err) err = pk_sys_getint(fd, IPPROTO_IP, IP_RECVIF, &ifx);
    *on = dst && ifx;
#endif
    *on = !err && *on != 0;
    return err;
}

/* Whether an inet6 datagram socket takes IPv4 traffic too (IPV6_V6ONLY
 * off). Raw IPv6 sockets never carry IPv4. */
int pk_sock_dualstack(const pk_sock *s, int *dual)
{
    int v6only, err;
    *dual = 0;
    if (s->family != AF_INET6 || s->type != SOCK_DGRAM) return 0;
    if ((err = pk_sys_getint(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only)))
        return err;
    *dual = !v6only;
    return 0;
}

/* The IP_PKTINFO page's rule for dual-stack sockets: a failure to set an
 * IPv4-level option with EINVAL is ignored only when IPv4 is disabled,
 * which probe_ipv4 tells by failing with EAFNOSUPPORT. */
int pk_ipv4_disabled_ignorable(int err, int (*probe_ipv4)(void))
{
    return err == EINVAL && probe_ipv4() == EAFNOSUPPORT;
}

/* Only datagram and raw sockets have packet information (the page's
 * ENOPROTOOPT rule). Checked here because the systems disagree: Linux
 * accepts the option on TCP sockets, Wine answers WSAEINVAL. */
static int check_pktinfo_type(const pk_sock *s)
{
    return s->type == SOCK_DGRAM || s->type == SOCK_RAW ? 0 : ENOPROTOOPT;
}

/* The probe set_ipv4_half asks whether IPv4 is disabled: the platform's
 * pk_probe_ipv4, or a test's stand-in (on Linux IPv4 is never disabled). */
static pk_probe_fn ipv4_probe = pk_probe_ipv4;

/* Replaces that probe (NULL: the platform's again); returns the old one.
 * For the C unit tests only: it is process-wide. */
pk_probe_fn pk_sockopt_set_probe(pk_probe_fn probe)
{
    pk_probe_fn old = ipv4_probe;
    ipv4_probe = probe ? probe : pk_probe_ipv4;
    return old;
}

/* Sets the IPv4 half of an option on a dual-stack socket, applying the
 * IPv4-disabled exception. kind: V4_INT, V4_IFACE or V4_PKTINFO. */
static int set_ipv4_half(pk_sock *s, int level, int name, int value, int kind)
{
    int err = kind == V4_PKTINFO ? set_pktinfo4(s->fd, value)
            : kind == V4_IFACE ? pk_sys_set_iface4(s->fd, level, name, (uint32_t)value)
            : pk_sys_setint(s->fd, level, name, value);
    if (err && pk_ipv4_disabled_ignorable(err, ipv4_probe)) err = 0;
    return err;
}

/* Turns packet information on or off: IP_PKTINFO, the IPv6 option, and
 * both on a dual-stack socket. */
int pk_sock_set_pktinfo(pk_sock *s, int on)
{
    int err, dual;
    on = on ? 1 : 0;
    if ((err = check_pktinfo_type(s))) return err;
    if (s->family == AF_INET) return set_pktinfo4(s->fd, on);
    if ((err = pk_sys_setint(s->fd, IPPROTO_IPV6, PK_IPV6_RECVPKTINFO, on)))
        return err;
    if ((err = pk_sock_dualstack(s, &dual)) || !dual) return err;
    return set_ipv4_half(s, IPPROTO_IP, 0, on, V4_PKTINFO);
}

/* Reads back from the kernel whether packet information is on (on a
 * dual-stack socket, both options must be). */
int pk_sock_get_pktinfo(const pk_sock *s, int *on)
{
    int err, dual, v4;
    *on = 0;
    if ((err = check_pktinfo_type(s))) return err;
    if (s->family == AF_INET) return get_pktinfo4(s->fd, on);
    if ((err = pk_sys_getint(s->fd, IPPROTO_IPV6, PK_IPV6_RECVPKTINFO, on)))
        return err;
    *on = *on != 0;
    if (!*on || pk_sock_dualstack(s, &dual) || !dual) return 0;
    if (get_pktinfo4(s->fd, &v4) == 0) *on = v4;
    return 0;
}

/* Sets an option at its level; IP-level options go to both IP versions
 * on a dual-stack socket. */
int pk_sock_setopt(pk_sock *s, const pk_option *o, int value)
{
    int err, dual, iface = o->kind == PK_OPTK_IFACE;
    int kind = iface ? V4_IFACE : V4_INT;
    if (o->where == PK_OPTL_OFFLOAD) return pk_offload_setopt(s, o->name4, value);
    if (o->kind == PK_OPTK_BOOL) value = value ? 1 : 0;
    if (o->kind == PK_OPTK_RDONLY || o->kind == PK_OPTK_DEVICE) return ENOPROTOOPT;
    if (o->kind == PK_OPTK_PMTUD && (value = pk_pmtud_to_sys(value)) < 0) return EOPNOTSUPP;
    if (o->where == PK_OPTL_SOCKET) {
        err = pk_sys_setint(s->fd, o->level4, o->name4, value);
#ifdef SO_RXQ_OVFL
        if (!err && o->level4 == SOL_SOCKET && o->name4 == SO_RXQ_OVFL)
            s->rxq_ovfl = value;
#endif
        return err;
    }
    if (o->where == PK_OPTL_IPV6ONLY)
        return s->family == AF_INET6
            ? pk_sys_setint(s->fd, o->level6, o->name6, value) : ENOPROTOOPT;
    if (s->family == AF_INET)
        return iface ? pk_sys_set_iface4(s->fd, o->level4, o->name4, (uint32_t)value)
                     : pk_sys_setint(s->fd, o->level4, o->name4, value);
    if ((err = pk_sys_setint(s->fd, o->level6, o->name6, value))) return err;
    if (pk_sock_dualstack(s, &dual) || !dual) return 0;
    return set_ipv4_half(s, o->level4, o->name4, value, kind);
}

/* Reads an option back from the kernel (the socket family's level). An
 * IPv4 multicast-if comes back as an address in *addr_out (family set),
 * everything else as *value (booleans as 0 or 1). */
int pk_sock_getopt(const pk_sock *s, const pk_option *o, int *value,
                   pk_sockaddr *addr_out)
{
    int err;
    memset(addr_out, 0, sizeof *addr_out);
    addr_out->sa.sa_family = AF_UNSPEC;
    if (o->where == PK_OPTL_OFFLOAD) return pk_offload_getopt(s, o->name4, value);
    if (o->where == PK_OPTL_IPV6ONLY && s->family != AF_INET6)
        return ENOPROTOOPT;
    if (o->where != PK_OPTL_SOCKET && s->family == AF_INET6) {
        err = pk_sys_getint(s->fd, o->level6, o->name6, value);
    } else if (o->where != PK_OPTL_SOCKET && o->kind == PK_OPTK_IFACE) {
        if ((err = pk_sys_get_iface4(s->fd, o->level4, o->name4,
                                     &addr_out->v4.sin_addr)))
            return err;
        addr_out->v4.sin_family = AF_INET;
        return 0;
    } else {                     /* socket level, or IPv4 level */
        err = pk_sys_getint(s->fd, o->level4, o->name4, value);
    }
    if (!err && o->kind == PK_OPTK_BOOL) *value = *value != 0;
    return err;
}
