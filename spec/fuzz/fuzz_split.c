/* libFuzzer target: the offload splitter (src/pk_split.c) on arbitrary
 * received messages: any buffer lengths (0 to 65535) and segment sizes
 * (0, smaller, equal to and larger than the buffer), cut or not by the
 * kernel, then arbitrary skips. Each buffer is malloc'ed at exactly its
 * length and the first and last byte of every datagram are read, so
 * AddressSanitizer catches a datagram reaching outside its buffer. Checked against a plain
 * oracle: the datagrams of a message tile it exactly, in order, all of
 * the segment size but the last (shorter, not empty), one datagram (the
 * whole message, even empty) when it is not coalesced; truncated only on
 * a cut buffer's last; skipping k lands where k steps of the walk do.
 * Then pk_gso_run on items built from the same bytes: a run is 1..64
 * items, consecutive, alike, at most PK_GSO_MAX_BYTES, only its last
 * shorter. */
#include "pk_offload.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAXMSG 8

static volatile unsigned sink;

/* The oracle: datagrams in a message of len bytes with segment size seg. */
static size_t expect_count(size_t len, size_t seg)
{
    return seg && len > seg ? (len + seg - 1) / seg : 1;
}

/* Walks c to its end, checking every datagram against the oracle. */
static void check_walk(pk_grocur *c, const pk_datagram *m, size_t nmsg)
{
    size_t i, off = 0, total = 0;
    pk_dgview v;
    for (i = 0; i < nmsg; i++) total += expect_count(m[i].len, m[i].info.gro);
    if (c->left != total) abort();
    i = 0;
    while (pk_gro_next(c, &v)) {
        size_t seg = m[i].info.gro;
        int coalesced = seg && m[i].len > seg, last;
        if (v.msg != &m[i] || v.data != m[i].data + off) abort();
        if (coalesced && (v.len == 0 || v.len > seg)) abort();
        if (!coalesced && v.len != m[i].len) abort();
        if (v.len) sink += v.data[0] + v.data[v.len - 1];   /* both ends in bounds */
        off += v.len;
        last = off >= m[i].len;
        if (coalesced && !last && v.len != seg) abort();
        if (v.truncated != (last && m[i].truncated)) abort();
        if (last) { i++; off = 0; }
        total--;
    }
    if (total != 0 || i != nmsg || c->left != 0) abort();
}

/* Skipping k from the start lands where k steps land. */
static void check_skip(const pk_datagram *m, size_t nmsg, size_t k)
{
    pk_grocur a, b;
    pk_dgview va, vb;
    size_t j;
    int ra, rb;
    pk_gro_init(&a, m, nmsg);
    pk_gro_init(&b, m, nmsg);
    pk_gro_skip(&a, k);
    for (j = 0; j < k && pk_gro_next(&b, &vb); j++) continue;
    if (a.left != b.left || a.i != b.i || (a.i < nmsg && a.off != b.off)) abort();
    ra = pk_gro_next(&a, &va);
    rb = pk_gro_next(&b, &vb);
    if (ra != rb) abort();
    if (ra && (va.data != vb.data || va.len != vb.len || va.truncated != vb.truncated))
        abort();
}

/* pk_gso_run on items whose sizes, destinations and order come from in. */
static void check_runs(const unsigned char *in, size_t size)
{
    static pk_outmsg m[80];
    static const unsigned char bytes[1];
    size_t n = size < 80 ? size : 80, i, run, total;
    memset(m, 0, sizeof m);
    for (i = 0; i < n; i++) {
        unsigned b = in[i];
        m[i].data = bytes;
        m[i].len = (b & 3) == 3 ? 0 : (b & 3) == 2 ? 1500 : 1200 - (b >> 5);
        m[i].to.v4.sin_family = AF_INET;
        m[i].to.v4.sin_port = (uint16_t)(b & 4);
        m[i].index = (int)i + 1 + ((b & 8) ? 1 : 0);
        m[i].controllen = b & 16 ? 8 : 0;
    }
    for (i = 0; i < n; i += run) {
        size_t k;
        run = pk_gso_run(&m[i], n - i);
        if (run < 1 || run > n - i || run > PK_GSO_MAX_SEGS) abort();
        for (total = 0, k = 0; k < run; k++) {
            const pk_outmsg *o = &m[i + k];
            total += o->len;
            if (k == 0) continue;
            if (o->len == 0 || o->len > m[i].len || o->index != m[i + k - 1].index + 1
                || o->to.v4.sin_port != m[i].to.v4.sin_port || o->controllen != m[i].controllen
                || (o->len < m[i].len && k + 1 != run))
                abort();
        }
        if (run > 1 && total > PK_GSO_MAX_BYTES) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_datagram m[MAXMSG];
    unsigned char *buf[MAXMSG];
    size_t nmsg, i, p = 1;
    pk_grocur c;

    if (size < 1) return 0;
    nmsg = (size_t)(data[0] % MAXMSG) + 1;
    memset(m, 0, sizeof m);
    for (i = 0; i < nmsg; i++) {          /* 5 bytes each: len, seg, flags */
        const unsigned char *d = p + 5 <= size ? data + p : (const unsigned char *)"\0\0\0\0\0";
        size_t len = (size_t)d[0] | (size_t)d[1] << 8;
        p += 5;
        buf[i] = (unsigned char *)malloc(len ? len : 1);
        if (!buf[i]) abort();
        m[i].data = buf[i];
        m[i].cap = m[i].len = len;
        m[i].info.gro = (uint32_t)d[2] | (uint32_t)d[3] << 8;
        m[i].truncated = d[4] & 1;
        if (pk_gro_count(&m[i]) != expect_count(len, m[i].info.gro)) abort();
    }
    pk_gro_init(&c, m, nmsg);
    check_walk(&c, m, nmsg);
    for (; p < size; p++) check_skip(m, nmsg, data[p] % 70u);
    if (size > 1) check_runs(data + 1, size - 1);
    for (i = 0; i < nmsg; i++) free(buf[i]);
    return 0;
}
