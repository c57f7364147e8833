/* The platform layer on POSIX (Linux first): sockets, options, recvmsg and
 * sendmsg with timeouts. No lua_State; every function returns 0 or errno. */
#include "pk_sock.h"
#include "pk_addr.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef IPV6_RECVPKTINFO
#define IPV6_RECVPKTINFO IPV6_PKTINFO
#endif

/* Nothing to initialise on POSIX. */
int pk_sys_init(void)
{
    return 0;
}

/* Seconds on a clock that never goes back. */
double pk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* setsockopt of an int; 0 or errno. */
int pk_sys_setint(pk_socket_t fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) ? errno : 0;
}

/* getsockopt of an int; 0 or errno. */
int pk_sys_getint(pk_socket_t fd, int level, int name, int *value)
{
    socklen_t len = sizeof *value;
    *value = 0;
    return getsockopt(fd, level, name, value, &len) ? errno : 0;
}

/* A new close-on-exec descriptor, non-blocking if asked: in one call where
 * socket() takes SOCK_NONBLOCK and SOCK_CLOEXEC, else with fcntl (macOS).
 * Sockets the module opens raise no SIGPIPE (SO_NOSIGPIPE where it exists:
 * MSG_NOSIGNAL is missing from older macOS SDKs). Returns fd or -1. */
static int new_socket(int family, int type, int protocol, int nonblock)
{
    int fd;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    fd = socket(family, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                protocol);
    if (fd < 0) return -1;
#else
    fd = socket(family, type, protocol);
    if (fd < 0) return -1;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0
        || (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
#endif
#ifdef SO_NOSIGPIPE
    if (pk_sys_setint(fd, SOL_SOCKET, SO_NOSIGPIPE, 1)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
#endif
    return fd;
}

/* Opens a new non-blocking, close-on-exec socket; inet6 datagram sockets
 * start dual-stack (raw ones cannot be: Linux refuses IPV6_V6ONLY there). */
int pk_sock_open(pk_sock *s, int family, int type, int protocol)
{
    int fd = new_socket(family, type, protocol, 1);
    if (fd < 0) return errno;
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->protocol = protocol;
    s->owned = 1;
    if (family == AF_INET6 && type == SOCK_DGRAM) {
        int err = pk_sys_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
        if (err) { pk_sock_close(s); return err; }
    }
    return 0;
}

/* Adopts an existing descriptor, reading its family, type and protocol
 * from the kernel. With take, the socket owns fd itself; otherwise it owns
 * a duplicate (close-on-exec), so that neither side's close can pull the
 * socket from under the other or let a new socket reuse the number. Its
 * flags are left alone: the module passes MSG_DONTWAIT instead of making a
 * shared descriptor non-blocking. On failure nothing is closed. */
int pk_sock_adopt(pk_sock *s, pk_socket_t fd, int take)
{
    pk_sockaddr a;
    socklen_t len = sizeof a;
    int type, err, protocol = 0;

    if ((err = pk_sys_getint(fd, SOL_SOCKET, SO_TYPE, &type))) return err;
#ifdef SO_DOMAIN
    {
        int domain;
        if ((err = pk_sys_getint(fd, SOL_SOCKET, SO_DOMAIN, &domain))) return err;
        a.sa.sa_family = (sa_family_t)domain;
    }
#else
    if (getsockname(fd, &a.sa, &len)) return errno;
#endif
    (void)len;
    if (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6)
        return EAFNOSUPPORT;
#ifdef SO_PROTOCOL
    pk_sys_getint(fd, SOL_SOCKET, SO_PROTOCOL, &protocol);
#endif
#ifdef SO_RXQ_OVFL
    if (pk_sys_getint(fd, SOL_SOCKET, SO_RXQ_OVFL, &s->rxq_ovfl)) s->rxq_ovfl = 0;
#endif
#ifdef UDP_GRO
    /* the owner may have turned UDP_GRO on: its buffers must be cut up */
    if (type != SOCK_DGRAM || pk_sys_getint(fd, IPPROTO_UDP, UDP_GRO, &s->off.gro))
        s->off.gro = 0;
    s->off.gro = s->off.gro != 0;
#endif
    if (!take && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) return errno;
    s->fd = fd;
    s->family = a.sa.sa_family;
    s->type = type;
    s->protocol = protocol;
    s->owned = 1;
    return 0;
}

/* Closes the descriptor if owned, dropping datagrams received but not
 * returned yet (as the kernel drops its queue); safe to call twice. */
int pk_sock_close(pk_sock *s)
{
    int err = 0;
    if (s->fd != PK_NO_SOCKET && s->owned && close(s->fd)) err = errno;
    s->fd = PK_NO_SOCKET;
    memset(&s->off, 0, sizeof s->off);
    return err == EINTR ? 0 : err;
}

/* Binds to a (already in the socket's family). */
int pk_sock_bind(pk_sock *s, const pk_sockaddr *a)
{
    return bind(s->fd, &a->sa, pk_sockaddr_len(a)) ? errno : 0;
}

/* The local address. */
int pk_sock_name(const pk_sock *s, pk_sockaddr *a)
{
    socklen_t len = sizeof *a;
    memset(a, 0, sizeof *a);
    return getsockname(s->fd, &a->sa, &len) ? errno : 0;
}

/* Tries to create an AF_INET socket: 0 if IPv4 is there, else the error. */
int pk_probe_ipv4(void)
{
    int fd = new_socket(AF_INET, SOCK_DGRAM, 0, 0);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

/* Sets IPv4 multicast-if to an interface index (0: the kernel's choice). */
int pk_sys_set_iface4(pk_socket_t fd, int level, int name, uint32_t ifindex)
{
    struct ip_mreqn m;
    memset(&m, 0, sizeof m);
    m.imr_ifindex = (int)ifindex;
    return setsockopt(fd, level, name, &m, sizeof m) ? errno : 0;
}

/* Reads IPv4 multicast-if back: Linux reports an address. */
int pk_sys_get_iface4(pk_socket_t fd, int level, int name, struct in_addr *out)
{
    socklen_t len = sizeof *out;
    memset(out, 0, sizeof *out);
    return getsockopt(fd, level, name, out, &len) ? errno : 0;
}

/* Copies an address into an RFC 3678 request, with sa_len where the
 * system has it (SIN6_LEN): BSD kernels, macOS's among them, refuse a
 * group or source whose sa_len is not its size. */
static void put_rfc3678_addr(struct sockaddr_storage *to, const pk_sockaddr *a)
{
    socklen_t len = pk_sockaddr_len(a);
    memcpy(to, a, len);
#ifdef SIN6_LEN
    ((struct sockaddr *)to)->sa_len = (uint8_t)len;
#endif
}

/* Joins or leaves a source-specific membership: datagrams to group from
 * source only (RFC 4607). */
static int source_membership(pk_sock *s, int join, const pk_sockaddr *group,
                             uint32_t ifindex, const pk_sockaddr *source)
{
#ifdef MCAST_JOIN_SOURCE_GROUP
    struct group_source_req r;
    memset(&r, 0, sizeof r);
    r.gsr_interface = ifindex;
    put_rfc3678_addr(&r.gsr_group, group);
    put_rfc3678_addr(&r.gsr_source, source);
    return setsockopt(s->fd,
                      group->sa.sa_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                      join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP,
                      &r, sizeof r) ? errno : 0;
#else
    (void)s; (void)join; (void)group; (void)ifindex; (void)source;
    return ENOPROTOOPT;
#endif
}

/* Joins or leaves a multicast group on an interface (0: the kernel's
 * choice), for every sender or, with source (same family), for that one
 * only. An IPv4 group on a dual-stack socket is joined at IPv4 level. */
int pk_sock_membership(pk_sock *s, int join, const pk_sockaddr *group,
                       uint32_t ifindex, const pk_sockaddr *source)
{
    if (source) return source_membership(s, join, group, ifindex, source);
    if (group->sa.sa_family == AF_INET) {
#ifdef MCAST_JOIN_GROUP
        /* RFC 3678's request carries the index on every system that has
         * it; macOS reads IP_ADD_MEMBERSHIP's argument as an ip_mreq and
         * would drop an ip_mreqn's index (XNU inp_join_group). */
        struct group_req r;
        memset(&r, 0, sizeof r);
        r.gr_interface = ifindex;
        put_rfc3678_addr(&r.gr_group, group);
        return setsockopt(s->fd, IPPROTO_IP,
                          join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP,
                          &r, sizeof r) ? errno : 0;
#else
        struct ip_mreqn m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = group->v4.sin_addr;
        m.imr_ifindex = (int)ifindex;
        return setsockopt(s->fd, IPPROTO_IP,
                          join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
                          &m, sizeof m) ? errno : 0;
#endif
    } else {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = group->v6.sin6_addr;
        m.ipv6mr_interface = ifindex;
        return setsockopt(s->fd, IPPROTO_IPV6,
                          join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP,
                          &m, sizeof m) ? errno : 0;
    }
}

/* Waits until the socket is readable (or writable), per its timeout.
 * *deadline is 0 on the first call of an operation and is set then (no
 * later than an event loop's poll deadline, for reading), so a retried
 * wait keeps the time left. Returns 0 or ETIMEDOUT. */
int pk_sock_wait(const pk_sock *s, int for_write, double *deadline)
{
    struct pollfd p;
    p.fd = s->fd;
    p.events = for_write ? POLLOUT : POLLIN;
    if (s->timeout == 0) return ETIMEDOUT;
    if (s->timeout > 0 && *deadline == 0) {
        *deadline = pk_now() + s->timeout;
        if (!for_write && s->poll_deadline > 0 && s->poll_deadline < *deadline)
            *deadline = s->poll_deadline;
    }
    for (;;) {
        int ms = -1, rc;
        if (s->timeout > 0) {
            double left = *deadline - pk_now();
            if (left <= 0) return ETIMEDOUT;
            /* a huge timeout (settimeout(1e300)) waits in ~23-day steps:
             * converting it whole to int would be undefined */
            ms = left < 2e6 ? (int)(left * 1000.0 + 0.999) : 2000000000;
        }
        rc = poll(&p, 1, ms);
        if (rc > 0) return for_write ? 0 : pk_sock_wait_past_errors(s, p.revents, deadline);
        if (rc < 0 && errno != EINTR) return errno;
    }
}

/* Receives one datagram into d->data with its sender and control
 * messages, waiting per the socket's timeout. EINTR is retried. */
int pk_sock_recv(pk_sock *s, pk_datagram *d)
{
    pk_cmsgbuf control;
    struct iovec iov;
    struct msghdr m;
    double deadline = 0;

    for (;;) {
        ssize_t n;
        iov.iov_base = d->data;
        iov.iov_len = d->cap;
        m.msg_name = &d->from;
        m.msg_namelen = sizeof d->from;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = &control;
        m.msg_controllen = sizeof control;
        m.msg_flags = 0;
        n = recvmsg(s->fd, &m, MSG_DONTWAIT);
        if (n >= 0) {
            d->len = (size_t)n;
            d->truncated = (m.msg_flags & MSG_TRUNC) != 0;
            d->ctruncated = (m.msg_flags & MSG_CTRUNC) != 0;
            if (m.msg_namelen == 0) d->from.sa.sa_family = AF_UNSPEC;
            pk_cmsg_decode(&control, m.msg_controllen, &d->info);
            pk_sock_recv_defaults(s, &d->info);
            return 0;
        }
        if (errno == EINTR || pk_sock_queued_error(s, errno)) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return errno;
        if ((n = pk_sock_wait(s, 0, &deadline))) return (int)n;
    }
}

/* Where the IPv4 source goes in IP_SENDSRCADDR (FreeBSD, OpenBSD): FreeBSD
 * refuses that message on a socket bound to an address, and such a socket
 * sends from its address anyway. Removes from control (len bytes, laid
 * out as L) a source equal to the socket's bound IPv4 address; a
 * different one stays for the kernel to refuse. Returns the new length. */
size_t pk_sock_fit_source(const pk_sock *s, const pk_layout *L, void *control,
                          size_t len)
{
    static const unsigned char any[4];
    const unsigned char *bound;
    pk_sockaddr a;
    if (len == 0 || L->ip_sendsrcaddr == PK_NONE || pk_sock_name(s, &a))
        return len;
    if (a.sa.sa_family == AF_INET)
        bound = (const unsigned char *)&a.v4.sin_addr;
    else if (a.sa.sa_family == AF_INET6 && pk_ip6_is_v4mapped(a.v6.sin6_addr.s6_addr))
        bound = a.v6.sin6_addr.s6_addr + 12;
    else
        return len;
    if (memcmp(bound, any, 4) == 0) return len;      /* the wildcard */
    return pk_cmsg_drop_srcaddr(L, control, len, bound);
}

/* Sends one datagram to `to` with optional control messages, waiting per
 * the socket's timeout if the send buffer is full. */
int pk_sock_send(pk_sock *s, const void *data, size_t len,
                 const pk_sockaddr *to, const void *control,
                 size_t controllen, size_t *sent)
{
    struct iovec iov;
    struct msghdr m;
    double deadline = 0;
    int retried = 0;
#ifdef PK_USE_SENDSRCADDR
    pk_cmsgbuf fitted;
    if (controllen && controllen <= sizeof fitted) {
        memcpy(&fitted, control, controllen);
        controllen = pk_sock_fit_source(s, pk_cmsg_native(), &fitted, controllen);
        control = &fitted;
    }
#endif

    memset(&m, 0, sizeof m);
    iov.iov_base = (void *)(uintptr_t)data;
    iov.iov_len = len;
    m.msg_name = (void *)(uintptr_t)to;          /* NULL: to the peer */
    m.msg_namelen = to ? pk_sockaddr_len(to) : 0;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = controllen ? (void *)(uintptr_t)control : NULL;
    m.msg_controllen = controllen;
    for (;;) {
        ssize_t n = sendmsg(s->fd, &m, MSG_DONTWAIT | PK_MSG_NOSIGNAL);
        int err;
        if (n >= 0) { *sent = (size_t)n; return 0; }
        if (errno == EINTR) continue;
        /* an earlier datagram's queued ICMP error, not this one's: once */
        if (!retried && pk_sock_queued_error(s, errno)) { retried = 1; continue; }
        if (errno != EAGAIN && errno != EWOULDBLOCK) return errno;
        if ((err = pk_sock_wait(s, 1, &deadline))) return err;
    }
}
