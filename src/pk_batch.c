/* Batches of datagrams: pk_sock_recvmany and pk_sock_sendmany. One
 * recvmmsg / sendmmsg per chunk of PK_BATCH_CHUNK where the platform has
 * them (tested by MSG_WAITFORONE, which comes with them); elsewhere a loop
 * over pk_sock_recv / pk_sock_send, so the Windows layer needs nothing
 * more. No lua_State; every function returns 0 or an error number. */
#include "pk_sock.h"
#include "pk_offload.h"

#include <string.h>

/* -DPK_NO_MMSG builds the loop on Linux too (make test-batch-loop). */
#if defined(MSG_WAITFORONE) && !defined(_WIN32) && !defined(PK_NO_MMSG)
#define PK_HAVE_MMSG 1
#include <sys/uio.h>
#endif

/* UDP_SEGMENT sends (sendmany's runs with option gso) go out through
 * sendmmsg: only where it is. */
#if defined(PK_HAVE_MMSG) && defined(UDP_SEGMENT)
#define PK_HAVE_GSO 1
#endif

/* Whether sendmany can make UDP_SEGMENT sends on this platform. */
int pk_sock_gso_capable(void)
{
#ifdef PK_HAVE_GSO
    return 1;
#else
    return 0;
#endif
}

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

/* Sends m[0..n-1] one datagram per message, in order, setting each
 * m[i].err: 0 sent, an error number when the kernel refused that datagram
 * (the rest are still sent). Waits per the socket's timeout (*deadline:
 * one for the whole call) while the send buffer is full; returns
 * ETIMEDOUT (or the wait's error) if it stops there, else 0. sendmmsg
 * reports an error only when its first message fails, so that error is
 * that message's own. */
static int send_plain(pk_sock *s, pk_outmsg *m, size_t n, double *deadline)
{
    struct mmsghdr h[PK_BATCH_CHUNK];
    struct iovec iov[PK_BATCH_CHUNK];
    size_t i, done = 0, retried = n;

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
            if ((err = pk_sock_wait(s, 1, deadline))) return err;
            continue;
        }
        /* an earlier datagram's queued ICMP error, not this one's: once */
        if (retried != done && pk_sock_queued_error(s, err)) { retried = done; continue; }
        m[done++].err = err;
    }
    return 0;
}

#ifdef PK_HAVE_GSO

/* Most buffers (items) in one sendmmsg of runs. */
#define GSO_IOVS 256

/* One sendmmsg of runs: message k carries items first[k] to first[k] +
 * count[k] - 1, as one UDP_SEGMENT send when count[k] > 1. */
typedef struct gso_chunk {
    struct mmsghdr h[PK_BATCH_CHUNK];
    struct iovec iov[GSO_IOVS];
    size_t first[PK_BATCH_CHUNK], count[PK_BATCH_CHUNK], nmsg;
    union {                      /* aligned as cmsghdr, as pk_outmsg's */
        size_t len;
        void *ptr;
        unsigned char bytes[PK_CMSG_SEND_CAP + 32];
    } control[PK_BATCH_CHUNK];
} gso_chunk;

/* Appends a UDP_SEGMENT message of segment size seg at `at` (aligned:
 * the messages before it end on a CMSG_SPACE boundary); returns its size. */
static size_t put_segment(unsigned char *at, uint16_t seg)
{
    struct cmsghdr h;
    memset(at, 0, CMSG_SPACE(sizeof seg));
    memset(&h, 0, sizeof h);
    h.cmsg_level = IPPROTO_UDP;
    h.cmsg_type = UDP_SEGMENT;
    h.cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(at, &h, sizeof h);
    memcpy(at + CMSG_LEN(0), &seg, sizeof seg);
    return CMSG_SPACE(sizeof seg);
}

/* Fills c with messages for m[done..n) (done < n): each run pk_gso_run
 * finds (while the socket's gso is on), else one item; at least one
 * message. With the tests' hook installed, one message per chunk, so that
 * the hook decides each on its own. */
static void build_chunk(const pk_sock *s, const pk_outmsg *m, size_t n,
                        size_t done, gso_chunk *c)
{
    size_t j = done, iovs = 0, k, x, run, clen;
    for (c->nmsg = 0; j < n && c->nmsg < PK_BATCH_CHUNK; c->nmsg++) {
        struct msghdr *h = &c->h[c->nmsg].msg_hdr;
        run = s->off.gso ? pk_gso_run(&m[j], n - j) : 1;
        k = c->nmsg;
        /* the first always fits: a run is at most PK_GSO_MAX_SEGS */
        if (k > 0 && (iovs + run > GSO_IOVS || pk_offload_hooked())) break;
        for (x = 0; x < run; x++) {
            c->iov[iovs + x].iov_base = (void *)(uintptr_t)m[j + x].data;
            c->iov[iovs + x].iov_len = m[j + x].len;
        }
        memset(&c->h[k], 0, sizeof c->h[k]);
        h->msg_name = (void *)(uintptr_t)&m[j].to;
        h->msg_namelen = pk_sockaddr_len(&m[j].to);
        h->msg_iov = &c->iov[iovs];
        h->msg_iovlen = run;
        clen = m[j].controllen;
        memcpy(c->control[k].bytes, &m[j].control, clen);
        if (run > 1) clen += put_segment(c->control[k].bytes + clen, (uint16_t)m[j].len);
        h->msg_control = clen ? &c->control[k] : NULL;
        h->msg_controllen = clen;
        c->first[k] = j;
        c->count[k] = run;
        iovs += run;
        j += run;
    }
}

/* Sends m[0..n) as send_plain does, each run of items that can share a
 * UDP_SEGMENT send (pk_gso_run) as one message: a run the kernel sends
 * sends all its items, a run it refuses refuses all of them with its
 * error, exactly as each item alone would be. A run refused in a way that
 * may be the segmenting's fault (the kernel, device or path cannot do it:
 * EINVAL, EIO, ...; or too big) is sent item by item instead, so each
 * gets its own result; when no run has gone out yet on this socket and
 * the items alone do, that turns gso off for good (getoption says so). */
static int send_runs(pk_sock *s, pk_outmsg *m, size_t n, double *deadline)
{
    gso_chunk c;
    size_t i, k, done = 0, retried = n;
    while (done < n) {
        int r, err;
        build_chunk(s, m, n, done, &c);
        err = c.count[0] > 1 ? pk_offload_refused(PK_OFFLOAD_GSO_SEND) : 0;
        r = err ? -1 : sendmmsg(s->fd, c.h, (unsigned)c.nmsg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            for (k = 0; k < (size_t)r; k++) {
                for (i = 0; i < c.count[k]; i++) m[c.first[k] + i].err = 0;
                if (c.count[k] > 1) s->off.gso_ok = 1;
            }
            done = c.first[r - 1] + c.count[r - 1];
            continue;
        }
        if (!err) err = r == 0 ? EIO : errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            if ((err = pk_sock_wait(s, 1, deadline))) return err;
            continue;
        }
        /* an earlier datagram's queued ICMP error, not this run's: once */
        if (retried != done && pk_sock_queued_error(s, err)) { retried = done; continue; }
        if (c.count[0] > 1 && (pk_offload_unsupported(err) || err == EMSGSIZE)) {
            int stop = send_plain(s, &m[done], c.count[0], deadline);
            /* alone they go out: it was the segmenting, not the datagrams */
            for (i = 0; i < c.count[0] && !s->off.gso_ok && err != EMSGSIZE; i++)
                if (m[done + i].err == 0) s->off.gso = 0;
            if (stop) return stop;
        } else {
            for (i = 0; i < c.count[0]; i++) m[done + i].err = err;
        }
        done += c.count[0];
    }
    return 0;
}

#endif /* PK_HAVE_GSO */

/* Sends m[0..n-1] in order, setting each m[i].err: 0 sent, an error
 * number when the kernel refused that datagram (the rest are still sent),
 * -1 when not tried (ETIMEDOUT or the wait's error returned: the send
 * buffer stayed full for the socket's timeout). With option gso, runs of
 * alike items go out as UDP_SEGMENT sends, with the same results. */
int pk_sock_sendmany(pk_sock *s, pk_outmsg *m, size_t n)
{
    double deadline = 0;
    size_t i;
    for (i = 0; i < n; i++) m[i].err = -1;
#ifdef PK_HAVE_GSO
    if (s->off.gso) return send_runs(s, m, n, &deadline);
#endif
    return send_plain(s, m, n, &deadline);
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
