/* Batches of datagrams: pk_sock_recvmany and pk_sock_sendmany. One
 * recvmmsg / sendmmsg per chunk of PK_BATCH_CHUNK where the platform has
 * them (tested by MSG_WAITFORONE, which comes with them); elsewhere a loop
 * over pk_sock_recv / pk_sock_send, so the Windows layer needs nothing
 * more. No lua_State; every function returns 0 or an error number. */
#include "pk_sock.h"

#include <string.h>

/* -DPK_NO_MMSG builds the loop on Linux too (make test-batch-loop). */
#if defined(MSG_WAITFORONE) && !defined(_WIN32) && !defined(PK_NO_MMSG)
#define PK_HAVE_MMSG 1
#include <sys/uio.h>
#endif

#ifdef PK_HAVE_MMSG

/* One datagram's control buffer, aligned as cmsghdr (an array of
 * pk_cmsgbuf is not valid C: cmsghdr has a flexible array member). */
typedef union ctlbuf {
    size_t len;
    void *ptr;
    unsigned char bytes[PK_CMSG_RECV_CAP];
} ctlbuf;

/* Fills d from what recvmmsg left in m (n bytes) and its control buffer. */
static void finish_datagram(pk_datagram *d, const struct msghdr *m,
                            unsigned n, const ctlbuf *control)
{
    d->len = n;
    d->truncated = (m->msg_flags & MSG_TRUNC) != 0;
    d->ctruncated = (m->msg_flags & MSG_CTRUNC) != 0;
    if (m->msg_namelen == 0) d->from.sa.sa_family = AF_UNSPEC;
    pk_cmsg_decode(control, m->msg_controllen, &d->info);
}

/* Points msg i of a chunk at datagram d and control buffer c. */
static void prepare_recv(struct mmsghdr *h, struct iovec *iov, pk_datagram *d,
                         ctlbuf *c)
{
    iov->iov_base = d->data;
    iov->iov_len = d->cap;
    memset(h, 0, sizeof *h);
    h->msg_hdr.msg_name = &d->from;
    h->msg_hdr.msg_namelen = sizeof d->from;
    h->msg_hdr.msg_iov = iov;
    h->msg_hdr.msg_iovlen = 1;
    h->msg_hdr.msg_control = c;
    h->msg_hdr.msg_controllen = sizeof *c;
}

/* Receives up to n datagrams into d[] (data and cap set by the caller):
 * waits per the socket's timeout for the first, then takes what is queued.
 * *got is at least 1 on success. A later chunk's error other than EAGAIN
 * ends the batch early (the datagrams already received are kept). A
 * queued ICMP error that the kernel reports instead of a datagram is
 * retried past (pk_sock_queued_error). */
int pk_sock_recvmany(pk_sock *s, pk_datagram *d, size_t n, size_t *got)
{
    struct mmsghdr h[PK_BATCH_CHUNK];
    struct iovec iov[PK_BATCH_CHUNK];
    ctlbuf control[PK_BATCH_CHUNK];
    double deadline = 0;
    size_t done = 0;

    *got = 0;
    while (done < n) {
        size_t i, k = n - done < PK_BATCH_CHUNK ? n - done : PK_BATCH_CHUNK;
        int r;
        for (i = 0; i < k; i++) prepare_recv(&h[i], &iov[i], &d[done + i], &control[i]);
        r = recvmmsg(s->fd, h, (unsigned)k, MSG_DONTWAIT | MSG_WAITFORONE, NULL);
        if (r < 0) {
            int err = errno;
            if (err == EINTR || pk_sock_queued_error(s, err)) continue;
            if (done > 0) break;
            if (err != EAGAIN && err != EWOULDBLOCK) return err;
            if ((err = pk_sock_wait(s, 0, &deadline))) return err;
            continue;
        }
        for (i = 0; i < (size_t)r; i++) {
            finish_datagram(&d[done + i], &h[i].msg_hdr, h[i].msg_len, &control[i]);
            pk_sock_recv_defaults(s, &d[done + i].info);
        }
        done += (size_t)r;
        if ((size_t)r < k) break;
    }
    *got = done;
    return 0;
}

/* Points msg i of a chunk at outgoing message o. */
static void prepare_send(struct mmsghdr *h, struct iovec *iov,
                         const pk_outmsg *o)
{
    iov->iov_base = (void *)(uintptr_t)o->data;
    iov->iov_len = o->len;
    memset(h, 0, sizeof *h);
    h->msg_hdr.msg_name = (void *)(uintptr_t)&o->to;
    h->msg_hdr.msg_namelen = pk_sockaddr_len(&o->to);
    h->msg_hdr.msg_iov = iov;
    h->msg_hdr.msg_iovlen = 1;
    h->msg_hdr.msg_control = o->controllen ? (void *)(uintptr_t)&o->control : NULL;
    h->msg_hdr.msg_controllen = o->controllen;
}

/* Sends m[0..n-1] in order, setting each m[i].err: 0 sent, an error
 * number when the kernel refused that datagram (the rest are still sent),
 * -1 when not tried. Waits per the socket's timeout (one deadline for the
 * whole call) while the send buffer is full; returns ETIMEDOUT (or the
 * wait's error) if it stops there, else 0. sendmmsg reports an error only
 * when its first message fails, so that error is that message's own. */
int pk_sock_sendmany(pk_sock *s, pk_outmsg *m, size_t n)
{
    struct mmsghdr h[PK_BATCH_CHUNK];
    struct iovec iov[PK_BATCH_CHUNK];
    double deadline = 0;
    size_t i, done = 0, retried = n;

    for (i = 0; i < n; i++) m[i].err = -1;
    while (done < n) {
        size_t k = n - done < PK_BATCH_CHUNK ? n - done : PK_BATCH_CHUNK;
        int r, err;
        for (i = 0; i < k; i++) prepare_send(&h[i], &iov[i], &m[done + i]);
        r = sendmmsg(s->fd, h, (unsigned)k, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            for (i = 0; i < (size_t)r; i++) m[done + i].err = 0;
            done += (size_t)r;
            continue;
        }
        err = r == 0 ? EIO : errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            if ((err = pk_sock_wait(s, 1, &deadline))) return err;
            continue;
        }
        /* an earlier datagram's queued ICMP error, not this one's: once */
        if (retried != done && pk_sock_queued_error(s, err)) { retried = done; continue; }
        m[done++].err = err;
    }
    return 0;
}

#else /* no recvmmsg/sendmmsg: one datagram at a time */

/* As above, with one pk_sock_recv per datagram; only the first waits. */
int pk_sock_recvmany(pk_sock *s, pk_datagram *d, size_t n, size_t *got)
{
    double timeout = s->timeout;
    size_t done = 0;
    int err;

    *got = 0;
    if (n == 0) return 0;
    if ((err = pk_sock_recv(s, &d[0]))) return err;
    s->timeout = 0;                   /* the rest: only what is queued */
    for (done = 1; done < n; done++)
        if (pk_sock_recv(s, &d[done])) break;
    s->timeout = timeout;
    *got = done;
    return 0;
}

/* As above, with one pk_sock_send per datagram. */
int pk_sock_sendmany(pk_sock *s, pk_outmsg *m, size_t n)
{
    size_t i, bytes;
    for (i = 0; i < n; i++) m[i].err = -1;
    for (i = 0; i < n; i++) {
        int err = pk_sock_send(s, m[i].data, m[i].len, &m[i].to,
                               m[i].controllen ? &m[i].control : NULL,
                               m[i].controllen, &bytes);
        if (err == ETIMEDOUT) return err;
        m[i].err = err;
    }
    return 0;
}

#endif
