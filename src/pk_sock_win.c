/* The platform layer on Windows (Winsock 2, Vista or later): the same
 * interface as pk_sock_posix.c, over WSARecvMsg and WSASendMsg with WSAPoll
 * timeouts. Every function returns 0 or an errno number: WSAE* codes are
 * mapped to the errno whose name pk_errname gives on Linux, so a script
 * sees "ENOPROTOOPT" on both. No lua_State here. */
#include "pk_sock.h"
#include "pk_gw.h"

#include <stdio.h>
#include <string.h>

#ifndef WSAID_WSARECVMSG
#define WSAID_WSARECVMSG \
    {0xf689d7c8, 0x6f1f, 0x436b, {0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22}}
#endif
#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif
#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#endif

/* WSARecvMsg is an extension function: fetched once, when the module loads. */
static LPFN_WSARECVMSG recvmsg_fn;

/* Each WSAE* code and the errno number with the same meaning. Codes not
 * listed pass through unchanged (they are >= 10000, past every errno). */
static const struct { int wsa, err; } wsa_errors[] = {
    {WSAEINTR, EINTR}, {WSAEBADF, EBADF}, {WSAEACCES, EACCES},
    {WSAEFAULT, EFAULT}, {WSAEINVAL, EINVAL}, {WSAEMFILE, EMFILE},
    {WSAEWOULDBLOCK, EAGAIN}, {WSAEINPROGRESS, EINPROGRESS},
    {WSAEALREADY, EALREADY}, {WSAENOTSOCK, ENOTSOCK},
    {WSAEDESTADDRREQ, EDESTADDRREQ}, {WSAEMSGSIZE, EMSGSIZE},
    {WSAEPROTOTYPE, EPROTOTYPE}, {WSAENOPROTOOPT, ENOPROTOOPT},
    {WSAEPROTONOSUPPORT, EPROTONOSUPPORT},
    {WSAESOCKTNOSUPPORT, ESOCKTNOSUPPORT}, {WSAEOPNOTSUPP, EOPNOTSUPP},
    {WSAEAFNOSUPPORT, EAFNOSUPPORT}, {WSAEPFNOSUPPORT, EAFNOSUPPORT},
    {WSAEADDRINUSE, EADDRINUSE}, {WSAEADDRNOTAVAIL, EADDRNOTAVAIL},
    {WSAENETDOWN, ENETDOWN}, {WSAENETUNREACH, ENETUNREACH},
    {WSAENETRESET, ENETRESET}, {WSAECONNABORTED, ECONNABORTED},
    {WSAECONNRESET, ECONNRESET}, {WSAENOBUFS, ENOBUFS},
    {WSAEISCONN, EISCONN}, {WSAENOTCONN, ENOTCONN}, {WSAESHUTDOWN, EPIPE},
    {WSAETIMEDOUT, ETIMEDOUT}, {WSAECONNREFUSED, ECONNREFUSED},
    {WSAEHOSTDOWN, EHOSTDOWN}, {WSAEHOSTUNREACH, EHOSTUNREACH},
    {WSA_NOT_ENOUGH_MEMORY, ENOMEM}, {WSA_INVALID_PARAMETER, EINVAL},
    {WSA_INVALID_HANDLE, EBADF}, {WSA_OPERATION_ABORTED, EINTR},
    {0, 0}
};

/* The errno number for a WSAE* code. */
static int map_wsa(int code)
{
    int i;
    for (i = 0; wsa_errors[i].wsa; i++)
        if (wsa_errors[i].wsa == code) return wsa_errors[i].err;
    return code;
}

/* The errno number for the last Winsock error. */
static int last_error(void)
{
    return map_wsa(WSAGetLastError());
}

/* The system's text for err (an errno number, or an unmapped WSAE* code),
 * from FormatMessage for socket errors; the symbolic name if it has none. */
const char *pk_errmsg(int err, char *buf, size_t cap)
{
    DWORD code = (DWORD)err, n = 0;
    int i;
    for (i = 0; wsa_errors[i].wsa; i++)
        if (wsa_errors[i].err == err) { code = (DWORD)wsa_errors[i].wsa; break; }
    if (code >= WSABASEERR)
        n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                           NULL, code, 0, buf, (DWORD)cap, NULL);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' ' || buf[n - 1] == '.'))
        buf[--n] = '\0';
    if (n == 0) {
        const char *name = pk_errname(err);
        if (strcmp(name, "EUNKNOWN") == 0) snprintf(buf, cap, "error %d", err);
        else if (code < WSABASEERR) snprintf(buf, cap, "%s", strerror(err));
        else snprintf(buf, cap, "%s", name);
    }
    return buf;
}

/* Starts Winsock (so WSANOTINITIALISED is never seen) and fetches
 * WSARecvMsg. A missing WSARecvMsg only makes recv fail later. */
int pk_sys_init(void)
{
    WSADATA wsa;
    GUID guid = WSAID_WSARECVMSG;
    DWORD bytes = 0;
    SOCKET fd;
    int rc = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (rc) return map_wsa(rc);
    if (recvmsg_fn) return 0;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd == INVALID_SOCKET) fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd == INVALID_SOCKET) return 0;
    if (WSAIoctl(fd, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid,
                 &recvmsg_fn, sizeof recvmsg_fn, &bytes, NULL, NULL))
        recvmsg_fn = NULL;
    closesocket(fd);
    return 0;
}

/* Seconds on a clock that never goes back. */
double pk_now(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart / (double)freq.QuadPart;
}

/* setsockopt of an int (a DWORD or BOOL for Winsock); 0 or errno. */
int pk_sys_setint(pk_socket_t fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, (const char *)&value, sizeof value)
        ? last_error() : 0;
}

/* getsockopt of an int; 0 or errno. Options Winsock keeps in fewer bytes
 * (a BOOL in one byte) are read zero-extended. */
int pk_sys_getint(pk_socket_t fd, int level, int name, int *value)
{
    int len = sizeof *value;
    *value = 0;
    return getsockopt(fd, level, name, (char *)value, &len) ? last_error() : 0;
}

/* Turns off the "port unreachable" report that makes the next recv on a
 * UDP socket fail with WSAECONNRESET (a server loop must not die of it). */
static void connreset_off(pk_socket_t fd)
{
    BOOL off = FALSE;
    DWORD bytes = 0;
    WSAIoctl(fd, SIO_UDP_CONNRESET, &off, sizeof off, NULL, 0, &bytes, NULL, NULL);
}

/* Opens a new non-blocking, non-inheritable socket; inet6 sockets start
 * dual-stack (Windows starts them IPv6-only). */
int pk_sock_open(pk_sock *s, int family, int type, int protocol)
{
    u_long nbio = 1;
    int err;
    SOCKET fd = WSASocketW(family, type, protocol, NULL, 0,
                           WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (fd == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL)
        fd = WSASocketW(family, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (fd == INVALID_SOCKET) return last_error();
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->protocol = protocol;
    s->owned = 1;
    if (ioctlsocket(fd, FIONBIO, &nbio)) {
        err = last_error();
        pk_sock_close(s);
        return err;
    }
    if (type == SOCK_DGRAM) connreset_off(fd);
    if (family == AF_INET6 && (err = pk_sys_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0))) {
        pk_sock_close(s);
        return err;
    }
    return 0;
}

/* Adopts an existing socket, reading family, type and protocol from
 * Winsock (SO_PROTOCOL_INFOW; a handle that is no socket gives ENOTSOCK).
 * Without take it is borrowed, not duplicated (Winsock has no in-process
 * dup): close leaves it open. Its blocking mode is left alone: waits
 * happen before the call. On failure nothing is closed. */
int pk_sock_adopt(pk_sock *s, pk_socket_t fd, int take)
{
    WSAPROTOCOL_INFOW pi;
    int len = sizeof pi;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&pi, &len))
        return last_error();
    if (pi.iAddressFamily != AF_INET && pi.iAddressFamily != AF_INET6)
        return EAFNOSUPPORT;
    s->fd = fd;
    s->family = pi.iAddressFamily;
    s->type = pi.iSocketType;
    s->protocol = pi.iProtocol;
    s->owned = take;
    return 0;
}

/* Closes the socket if owned; safe twice. */
int pk_sock_close(pk_sock *s)
{
    int err = 0;
    if (s->fd != PK_NO_SOCKET && s->owned && closesocket(s->fd)) err = last_error();
    s->fd = PK_NO_SOCKET;
    return err == EINTR ? 0 : err;
}

/* Binds to a (already in the socket's family). */
int pk_sock_bind(pk_sock *s, const pk_sockaddr *a)
{
    return bind(s->fd, &a->sa, pk_sockaddr_len(a)) ? last_error() : 0;
}

/* The local address. */
int pk_sock_name(const pk_sock *s, pk_sockaddr *a)
{
    int len = sizeof *a;
    memset(a, 0, sizeof *a);
    return getsockname(s->fd, &a->sa, &len) ? last_error() : 0;
}

/* Tries to create an AF_INET socket: 0 if IPv4 is there, else the error. */
int pk_probe_ipv4(void)
{
    SOCKET fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd == INVALID_SOCKET) return last_error();
    closesocket(fd);
    return 0;
}

/* The IPv4 form of interface ifindex for IP_MULTICAST_IF and ip_mreq: the
 * interface's first IPv4 address (what every Winsock, Wine's too,
 * accepts), else the index as an address in 0.0.0.0/8 (Windows' own
 * convention); 0.0.0.0 for 0, the stack's choice. */
static struct in_addr iface_v4(uint32_t ifindex)
{
    struct in_addr a;
    ULONG size = 16384;
    IP_ADAPTER_ADDRESSES *list, *ad;
    a.s_addr = htonl(ifindex);
    if (ifindex == 0) return a;
    list = (IP_ADAPTER_ADDRESSES *)malloc(size);
    if (list && GetAdaptersAddresses(AF_INET, GAA_FLAG_SKIP_ANYCAST
            | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER, NULL, list,
            &size) == NO_ERROR) {
        for (ad = list; ad; ad = ad->Next)
            if (ad->IfIndex == ifindex && ad->FirstUnicastAddress) {
                const SOCKET_ADDRESS *u = &ad->FirstUnicastAddress->Address;
                if (u->lpSockaddr->sa_family == AF_INET)
                    a = ((const struct sockaddr_in *)(const void *)u->lpSockaddr)->sin_addr;
                break;
            }
    }
    free(list);
    return a;
}

/* Sets IPv4 multicast-if to an interface (see iface_v4). */
int pk_sys_set_iface4(pk_socket_t fd, int level, int name, uint32_t ifindex)
{
    struct in_addr a = iface_v4(ifindex);
    return setsockopt(fd, level, name, (const char *)&a, sizeof a)
        ? last_error() : 0;
}

/* Reads IPv4 multicast-if back as an address. */
int pk_sys_get_iface4(pk_socket_t fd, int level, int name, struct in_addr *out)
{
    int len = sizeof *out;
    memset(out, 0, sizeof *out);
    return getsockopt(fd, level, name, (char *)out, &len) ? last_error() : 0;
}

/* Joins or leaves a multicast group on an interface (0: the stack's
 * choice). An IPv4 group on a dual-stack socket is joined at IPv4 level. */
int pk_sock_membership(pk_sock *s, int join, const pk_sockaddr *group,
                       uint32_t ifindex, const pk_sockaddr *source)
{
    if (source) {                /* source-specific: GROUP_SOURCE_REQ */
        GROUP_SOURCE_REQ r;
        memset(&r, 0, sizeof r);
        r.gsr_interface = ifindex;
        memcpy(&r.gsr_group, group, pk_sockaddr_len(group));
        memcpy(&r.gsr_source, source, pk_sockaddr_len(source));
        return setsockopt(s->fd,
                          group->sa.sa_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                          join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP,
                          (const char *)&r, sizeof r) ? last_error() : 0;
    }
    if (group->sa.sa_family == AF_INET) {
        struct ip_mreq m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = group->v4.sin_addr;
        m.imr_interface = iface_v4(ifindex);
        return setsockopt(s->fd, IPPROTO_IP,
                          join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
                          (const char *)&m, sizeof m) ? last_error() : 0;
    } else {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = group->v6.sin6_addr;
        m.ipv6mr_interface = ifindex;
        return setsockopt(s->fd, IPPROTO_IPV6,
                          join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
                          (const char *)&m, sizeof m) ? last_error() : 0;
    }
}

/* Waits until the socket is readable (or writable), per its timeout.
 * *deadline is 0 on the first call of an operation and is set then (no
 * later than an event loop's poll deadline, for reading), so a retried
 * wait keeps the time left. Returns 0 or ETIMEDOUT. */
int pk_sock_wait(const pk_sock *s, int for_write, double *deadline)
{
    WSAPOLLFD p;
    if (s->timeout > 0 && *deadline == 0) {
        *deadline = pk_now() + s->timeout;
        if (!for_write && s->poll_deadline > 0 && s->poll_deadline < *deadline)
            *deadline = s->poll_deadline;
    }
    for (;;) {
        int ms = -1, rc;
        if (s->timeout == 0) {
            ms = 0;
        } else if (s->timeout > 0) {
            double left = *deadline - pk_now();
            if (left <= 0) return ETIMEDOUT;
            /* a huge timeout waits in ~23-day steps (no undefined cast) */
            ms = left < 2e6 ? (int)(left * 1000.0 + 0.999) : 2000000000;
        }
        p.fd = s->fd;
        p.events = for_write ? POLLWRNORM : POLLRDNORM;
        p.revents = 0;
        rc = WSAPoll(&p, 1, ms);
        if (rc > 0) return 0;
        if (rc < 0) return last_error();
        if (s->timeout == 0) return ETIMEDOUT;
    }
}

/* Fills the WSAMSG of one receive into d with control buffer c. */
static void prepare_recv(WSAMSG *m, WSABUF *b, pk_datagram *d, pk_cmsgbuf *c)
{
    b->buf = (char *)d->data;
    b->len = (ULONG)d->cap;
    memset(m, 0, sizeof *m);
    m->name = &d->from.sa;
    m->namelen = sizeof d->from;
    m->lpBuffers = b;
    m->dwBufferCount = 1;
    m->Control.buf = (char *)c->bytes;
    m->Control.len = sizeof c->bytes;
}

/* Receives one datagram into d with its sender and control messages.
 * The socket may be a borrowed blocking one, so with a timeout the wait
 * comes first. A WSAECONNRESET (an ICMP port unreachable for an earlier
 * send) is skipped; WSAEMSGSIZE is a truncated datagram, not an error. */
int pk_sock_recv(pk_sock *s, pk_datagram *d)
{
    pk_cmsgbuf control;
    WSABUF b;
    WSAMSG m;
    DWORD n;
    double deadline = 0;
    int err, waited = 0;

    if (!recvmsg_fn) return EOPNOTSUPP;
    for (;;) {
        if (s->timeout >= 0 && !waited && (err = pk_sock_wait(s, 0, &deadline)))
            return err;
        waited = 0;
        prepare_recv(&m, &b, d, &control);
        n = 0;
        err = recvmsg_fn(s->fd, &m, &n, NULL, NULL) ? WSAGetLastError() : 0;
        if (err == 0 || err == WSAEMSGSIZE) {
            d->len = err ? d->cap : (size_t)n;
            if (d->len > d->cap) d->len = d->cap;
            d->truncated = err == WSAEMSGSIZE || (m.dwFlags & MSG_TRUNC) != 0;
            d->ctruncated = (m.dwFlags & MSG_CTRUNC) != 0;
            if (m.namelen == 0) d->from.sa.sa_family = AF_UNSPEC;
            pk_cmsg_decode(&control, m.Control.len, &d->info);
            return 0;
        }
        if (err == WSAECONNRESET || err == WSAENETRESET || err == WSAEINTR)
            continue;
        if (err != WSAEWOULDBLOCK) return map_wsa(err);
        if ((err = pk_sock_wait(s, 0, &deadline))) return err;
        waited = 1;
    }
}

/* Sends one datagram to `to` with optional control messages, waiting per
 * the socket's timeout if the send buffer is full. */
int pk_sock_send(pk_sock *s, const void *data, size_t len,
                 const pk_sockaddr *to, const void *control,
                 size_t controllen, size_t *sent)
{
    WSABUF b;
    WSAMSG m;
    double deadline = 0;

    memset(&m, 0, sizeof m);
    b.buf = (char *)(uintptr_t)data;
    b.len = (ULONG)len;
    m.name = to ? (struct sockaddr *)(uintptr_t)&to->sa : NULL;   /* NULL: the peer */
    m.namelen = to ? pk_sockaddr_len(to) : 0;
    m.lpBuffers = &b;
    m.dwBufferCount = 1;
    m.Control.buf = controllen ? (char *)(uintptr_t)control : NULL;
    m.Control.len = (ULONG)controllen;
    for (;;) {
        DWORD n = 0;
        int err;
        if (WSASendMsg(s->fd, &m, 0, &n, NULL, NULL) == 0) {
            *sent = (size_t)n;
            return 0;
        }
        err = WSAGetLastError();
        if (err == WSAEINTR) continue;
        if (err != WSAEWOULDBLOCK) return map_wsa(err);
        if ((err = pk_sock_wait(s, 1, &deadline))) return err;
    }
}

/* Gateways (README, "Gateways"; pk_gw.h): what Winsock has of them. */

/* Connects the socket to peer, or with NULL dissolves the association
 * (Winsock: a connect to the all-zero address of the family). */
int pk_sock_connect(pk_sock *s, const pk_sockaddr *peer)
{
    pk_sockaddr none;
    if (!peer) {
        memset(&none, 0, sizeof none);
        none.sa.sa_family = (ADDRESS_FAMILY)s->family;
        peer = &none;
    }
    return connect(s->fd, &peer->sa, pk_sockaddr_len(peer)) ? last_error() : 0;
}

/* The connected peer's address (ENOTCONN when there is none). */
int pk_sock_peer(const pk_sock *s, pk_sockaddr *a)
{
    int len = sizeof *a;
    memset(a, 0, sizeof *a);
    return getpeername(s->fd, &a->sa, &len) ? last_error() : 0;
}

/* setsockopt of len bytes. */
int pk_sys_setbytes(pk_socket_t fd, int level, int name, const void *v,
                    size_t len)
{
    return setsockopt(fd, level, name, (const char *)v, (int)len) ? last_error() : 0;
}

/* getsockopt of at most *len bytes; *len is set to what Winsock gave. */
int pk_sys_getbytes(pk_socket_t fd, int level, int name, void *v, size_t *len)
{
    int n = (int)*len;
    if (getsockopt(fd, level, name, (char *)v, &n)) return last_error();
    if (n >= 0 && (size_t)n < *len) *len = (size_t)n;
    return 0;
}

/* Option device: Winsock binds the outgoing interface of unicast
 * datagrams (IP_UNICAST_IF, the index in network byte order for IPv4;
 * IPV6_UNICAST_IF; both on a dual-stack socket); receiving is not
 * restricted. "" unbinds (index 0). */
int pk_sock_set_device(pk_sock *s, const char *name)
{
    DWORD index = 0;
    int err = 0, dual = 0;
    if (*name && (strlen(name) > 255 || (index = if_nametoindex(name)) == 0))
        return ENODEV;
    if (s->family == AF_INET6) {
        if ((err = pk_sys_setint(s->fd, IPPROTO_IPV6, IPV6_UNICAST_IF, (int)index)))
            return err;
        if (pk_sock_dualstack(s, &dual) || !dual) return 0;
    }
    err = pk_sys_setint(s->fd, IPPROTO_IP, IP_UNICAST_IF, (int)htonl(index));
    return dual && pk_ipv4_disabled_ignorable(err, pk_probe_ipv4) ? 0 : err;
}

/* The name of the interface option device binds to ("" for none). */
int pk_sock_get_device(const pk_sock *s, char *name, size_t cap)
{
    char buf[IF_NAMESIZE + 1];
    int index = 0, err;
    if (s->family == AF_INET6)
        err = pk_sys_getint(s->fd, IPPROTO_IPV6, IPV6_UNICAST_IF, &index);
    else if ((err = pk_sys_getint(s->fd, IPPROTO_IP, IP_UNICAST_IF, &index)) == 0)
        index = (int)ntohl((u_long)index);
    if (err) return err;
    memset(buf, 0, sizeof buf);
    if (index && !if_indextoname((NET_IFINDEX)index, buf)) return ENODEV;
    if (strlen(buf) >= cap) return ENAMETOOLONG;
    memcpy(name, buf, strlen(buf) + 1);
    return 0;
}

/* Winsock has no error queue: recverr() gives EOPNOTSUPP. */
int pk_sock_recverr(pk_sock *s, void *buf, size_t cap, pk_errinfo *e)
{
    (void)s; (void)buf; (void)cap; (void)e;
    return EOPNOTSUPP;
}
