/* The gateway calls on POSIX (Linux first): connecting a datagram
 * socket, raw socket options, interface binding, and the error queue,
 * with the two things Linux makes a receiver do about queued errors
 * (README, "Gateways"): retry a receive that failed with one, and wait
 * for data without spinning while the socket polls ready for errors. No
 * lua_State; every function returns 0 or errno. */
#include "pk_gw.h"

#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef PK_HAVE_ERRQUEUE
#include <sys/epoll.h>
#endif

/* Connects the socket to peer, or with NULL dissolves the association. */
int pk_sock_connect(pk_sock *s, const pk_sockaddr *peer)
{
    pk_sockaddr none;
    if (!peer) {
        memset(&none, 0, sizeof none);
        none.sa.sa_family = AF_UNSPEC;
        return connect(s->fd, &none.sa, sizeof none.sa) ? errno : 0;
    }
    return connect(s->fd, &peer->sa, pk_sockaddr_len(peer)) ? errno : 0;
}

/* The connected peer's address (ENOTCONN when there is none). */
int pk_sock_peer(const pk_sock *s, pk_sockaddr *a)
{
    socklen_t len = sizeof *a;
    memset(a, 0, sizeof *a);
    return getpeername(s->fd, &a->sa, &len) ? errno : 0;
}

/* setsockopt of len bytes. */
int pk_sys_setbytes(pk_socket_t fd, int level, int name, const void *v,
                    size_t len)
{
    return setsockopt(fd, level, name, v, (socklen_t)len) ? errno : 0;
}

/* getsockopt of at most *len bytes; *len is set to what the kernel gave. */
int pk_sys_getbytes(pk_socket_t fd, int level, int name, void *v, size_t *len)
{
    socklen_t n = (socklen_t)*len;
    if (getsockopt(fd, level, name, v, &n)) return errno;
    if ((size_t)n < *len) *len = n;
    return 0;
}

/* Binds the socket to an interface or VRF by name ("" unbinds). A name
 * longer than an interface name can be is no interface: ENODEV (the
 * kernel would cut it and might bind to another). */
int pk_sock_set_device(pk_sock *s, const char *name)
{
#ifdef SO_BINDTODEVICE
    size_t len = strlen(name);
    if (len > PK_DEVICE_MAX) return ENODEV;
    return setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, name,
                      (socklen_t)len) ? errno : 0;
#else
    (void)s; (void)name;
    return ENOPROTOOPT;
#endif
}

/* The name of the interface the socket is bound to ("" for none). */
int pk_sock_get_device(const pk_sock *s, char *name, size_t cap)
{
#ifdef SO_BINDTODEVICE
    char buf[64];
    socklen_t len = sizeof buf;
    memset(buf, 0, sizeof buf);
    if (getsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len)) return errno;
    buf[sizeof buf - 1] = '\0';
    if (strlen(buf) >= cap) return ENAMETOOLONG;
    memcpy(name, buf, strlen(buf) + 1);
    return 0;
#else
    (void)s; (void)name; (void)cap;
    return ENOPROTOOPT;
#endif
}

#ifdef PK_HAVE_ERRQUEUE

/* Whether option recverr is on (at either IP level): read from the
 * kernel, so that a wrapped socket's other owner counts too. */
static int recverr_on(const pk_sock *s)
{
    int on = 0;
    if (s->family == AF_INET6 && pk_sys_getint(s->fd, IPPROTO_IPV6, IPV6_RECVERR, &on) == 0 && on)
        return 1;
    return pk_sys_getint(s->fd, IPPROTO_IP, IP_RECVERR, &on) == 0 && on;
}

/* Whether a receive on s that failed with err reported an ICMP error the
 * kernel also queued (it fails the next plain receive with the error's
 * number even while a datagram waits): then the caller retries, and the
 * error stays queued for recverr(). Only the numbers ICMP errors become,
 * and only with recverr on: without it a connected socket's receive
 * reports the error once, as it always has. */
int pk_sock_queued_error(const pk_sock *s, int err)
{
    int saved = errno, queued;
    switch (err) {
    case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EACCES:
    case EMSGSIZE: case EPROTO: case ENOPROTOOPT: case EOPNOTSUPP:
    case EHOSTDOWN: case ENONET:
        break;
    default:
        return 0;
    }
    queued = (s->type == SOCK_DGRAM || s->type == SOCK_RAW) && recverr_on(s);
    errno = saved;               /* the caller reads errno again */
    return queued;
}

/* Milliseconds left until *deadline for a socket with timeout t (< 0:
 * none, -1 ms), or -2 when it has passed. */
static int ms_left(double t, const double *deadline)
{
    double left;
    if (t < 0) return -1;
    left = *deadline - pk_now();
    if (left <= 0) return -2;
    return left < 2e6 ? (int)(left * 1000.0 + 0.999) : 2000000000;
}

/* Waits, edge-triggered, for events on s (0: errors alone) per its
 * timeout; ep is an epoll descriptor already holding s. The first
 * wait reports what is pending now; each later one blocks until the
 * socket changes. Returns the events, or -errno (-ETIMEDOUT). */
static int wait_edge(const pk_sock *s, int ep, const double *deadline)
{
    for (;;) {
        struct epoll_event ev;
        int ms = ms_left(s->timeout, deadline), n;
        if (ms == -2) return -ETIMEDOUT;
        n = epoll_wait(ep, &ev, 1, ms);
        if (n > 0) return (int)ev.events;
        if (n == 0) return -ETIMEDOUT;
        if (errno != EINTR) return -errno;
    }
}

/* An epoll descriptor watching s edge-triggered for events, or -errno. */
static int edge_watch(const pk_sock *s, unsigned events)
{
    struct epoll_event ev;
    int ep = epoll_create1(EPOLL_CLOEXEC), err;
    if (ep < 0) return -errno;
    memset(&ev, 0, sizeof ev);
    ev.events = events | EPOLLET;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == 0) return ep;
    err = errno;
    close(ep);
    return -err;
}

/* pk_sock_wait's path when poll says the socket is ready with an error
 * and no data (revents). Without recverr that is the error of a
 * connected socket: it is returned (SO_ERROR takes it), as the receive
 * would have. Otherwise errors are queued, and poll would report them at
 * once again and again: waits edge-triggered instead until a datagram
 * comes (or the time is up). Returns 0 (readable) or an error number. */
int pk_sock_wait_past_errors(const pk_sock *s, int revents, double *deadline)
{
    int ep, ev;
    if (!(revents & POLLERR) || (revents & (POLLIN | POLLHUP | POLLNVAL)))
        return 0;
    if (!recverr_on(s)) {
        int err = 0;
        if (pk_sys_getint(s->fd, SOL_SOCKET, SO_ERROR, &err) == 0 && err) return err;
    }
    if ((ep = edge_watch(s, EPOLLIN)) < 0) return -ep;
    do {
        ev = wait_edge(s, ep, deadline);
    } while (ev > 0 && !(ev & (EPOLLIN | EPOLLHUP)));
    close(ep);
    return ev < 0 ? -ev : 0;
}

/* One recvmsg from the error queue into buf, with its error in *e. */
static int read_error(pk_sock *s, void *buf, size_t cap, pk_errinfo *e)
{
    pk_cmsgbuf control;
    struct iovec iov;
    struct msghdr m;
    ssize_t n;
    memset(&m, 0, sizeof m);
    iov.iov_base = buf;
    iov.iov_len = cap;
    m.msg_name = &e->to;
    m.msg_namelen = sizeof e->to;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = &control;
    m.msg_controllen = sizeof control;
    memset(&e->to, 0, sizeof e->to);
    n = recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) return errno;
    e->len = (size_t)n;
    e->truncated = (m.msg_flags & MSG_TRUNC) != 0;
    if (m.msg_namelen == 0) e->to.sa.sa_family = AF_UNSPEC;
    pk_errq_decode(&control, m.msg_controllen, e);
    return 0;
}

/* Reads one queued error (its quoted datagram into buf), waiting per the
 * socket's timeout for one to come. While none is queued the socket may
 * still poll ready with an error (a connected socket's pending one): the
 * wait is edge-triggered, so it does not spin on that. */
int pk_sock_recverr(pk_sock *s, void *buf, size_t cap, pk_errinfo *e)
{
    double deadline = s->timeout > 0 ? pk_now() + s->timeout : 0;
    int ep = -1, err, ev;
    for (;;) {
        err = read_error(s, buf, cap, e);
        if (err == EINTR) continue;
        if (err != EAGAIN && err != EWOULDBLOCK) break;
        if (s->timeout == 0) { err = ETIMEDOUT; break; }
        if (ep < 0 && (ep = edge_watch(s, 0)) < 0) { err = -ep; break; }
        if ((ev = wait_edge(s, ep, &deadline)) < 0) { err = -ev; break; }
    }
    if (ep >= 0) close(ep);
    return err;
}

#else /* no error queue */

int pk_sock_queued_error(const pk_sock *s, int err)
{
    (void)s; (void)err;
    return 0;
}

int pk_sock_wait_past_errors(const pk_sock *s, int revents, double *deadline)
{
    (void)s; (void)revents; (void)deadline;
    return 0;
}

int pk_sock_recverr(pk_sock *s, void *buf, size_t cap, pk_errinfo *e)
{
    (void)s; (void)buf; (void)cap; (void)e;
    return EOPNOTSUPP;
}

#endif
