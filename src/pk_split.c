/* Segmentation offload, the plain arithmetic: the datagrams of a buffer
 * the kernel coalesced (UDP_GRO), walked and skipped across buffers, and
 * the runs of sendmany items that can share one UDP_SEGMENT send. No
 * system call: spec/fuzz/fuzz_split.c runs it on arbitrary input. See
 * pk_offload.h. */
#include "pk_offload.h"

#include <string.h>

/* Whether m is a buffer of several datagrams: a segment size the kernel
 * gave, and more bytes than one segment. */
static int coalesced(const pk_datagram *m)
{
    return m->info.gro && m->len > m->info.gro;
}

/* How many datagrams message m holds: one unless coalesced (an empty
 * datagram is one too), else one per segment, the last maybe shorter. */
size_t pk_gro_count(const pk_datagram *m)
{
    size_t seg = m->info.gro;
    return coalesced(m) ? (m->len + seg - 1) / seg : 1;
}

/* The datagrams of m from offset off (the start of one of them) on. */
static size_t count_from(const pk_datagram *m, size_t off)
{
    size_t seg = m->info.gro;
    return coalesced(m) ? (m->len - off + seg - 1) / seg : 1;
}

/* Starts c at the first datagram of msg[0..n). */
void pk_gro_init(pk_grocur *c, const pk_datagram *msg, size_t n)
{
    size_t i;
    c->msg = msg;
    c->n = n;
    c->i = c->off = c->left = 0;
    c->owner = NULL;
    for (i = 0; i < n; i++) c->left += pk_gro_count(&msg[i]);
}

/* Moves c to the next message. */
static void next_message(pk_grocur *c)
{
    c->i++;
    c->off = 0;
}

/* Sets *v to the next datagram of c and moves past it; returns 0 when c
 * has none left. */
int pk_gro_next(pk_grocur *c, pk_dgview *v)
{
    const pk_datagram *m;
    if (!c->left || c->i >= c->n) return 0;
    m = &c->msg[c->i];
    v->msg = m;
    if (!coalesced(m)) {
        v->data = m->data;
        v->len = m->len;
        v->truncated = m->truncated;
        next_message(c);
    } else {
        size_t rest = m->len - c->off;
        v->data = m->data + c->off;
        v->len = rest < m->info.gro ? rest : m->info.gro;
        v->truncated = 0;
        c->off += v->len;
        if (c->off >= m->len) {  /* the last: cut if the kernel cut the buffer */
            v->truncated = m->truncated;
            next_message(c);
        }
    }
    c->left--;
    return 1;
}

/* Moves c past k datagrams (at most those it has left). */
void pk_gro_skip(pk_grocur *c, size_t k)
{
    if (k > c->left) k = c->left;
    while (k && c->i < c->n) {
        const pk_datagram *m = &c->msg[c->i];
        size_t here = count_from(m, c->off);
        if (k < here) {          /* here > 1: m is coalesced */
            c->off += k * m->info.gro;
            c->left -= k;
            return;
        }
        k -= here;
        c->left -= here;
        next_message(c);
    }
}

/* Whether a and b are the same destination (family, address, port and
 * IPv6 scope; padding and flow labels are not compared). */
static int same_to(const pk_sockaddr *a, const pk_sockaddr *b)
{
    if (a->sa.sa_family != b->sa.sa_family) return 0;
    if (a->sa.sa_family == AF_INET)
        return a->v4.sin_port == b->v4.sin_port
            && memcmp(&a->v4.sin_addr, &b->v4.sin_addr, 4) == 0;
    return a->v6.sin6_port == b->v6.sin6_port
        && a->v6.sin6_scope_id == b->v6.sin6_scope_id
        && memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
}

/* How many of m[0..n) (n >= 1) go out with m[0] in one UDP_SEGMENT send:
 * items that follow each other in the caller's list (consecutive index),
 * with the same destination, the same control messages (source, ttl,
 * tos) and m[0]'s size, except that the last may be shorter (not empty);
 * at most PK_GSO_MAX_SEGS of them and PK_GSO_MAX_BYTES in all. 1: m[0]
 * goes alone. */
size_t pk_gso_run(const pk_outmsg *m, size_t n)
{
    size_t seg = m[0].len, total = seg, k;
    if (seg == 0) return 1;
    for (k = 1; k < n && k < PK_GSO_MAX_SEGS; k++) {
        const pk_outmsg *o = &m[k];
        if (o->index != m[k - 1].index + 1 || o->len == 0 || o->len > seg
            || total + o->len > PK_GSO_MAX_BYTES || !same_to(&o->to, &m[0].to)
            || o->controllen != m[0].controllen
            || memcmp(&o->control, &m[0].control, o->controllen) != 0)
            break;
        total += o->len;
        if (o->len < seg) return k + 1;
    }
    return k;
}
