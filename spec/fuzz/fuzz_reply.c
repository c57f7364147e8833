/* libFuzzer target: the reply-source rules (pk_reply_source). Two oracles,
 * neither a copy of the code under test:
 * - the table of cases written from the README's rules
 *   (spec/c/reply_cases.h), run once: any mismatch aborts;
 * - invariants that hold for any request and any host (a random interface
 *   table behind the stand-in lookup): a reply to a group is never sent
 *   from the group or broadcast address and always leaves by the arrival
 *   interface, a reply is never pinned to another interface, a unicast
 *   reply to a known local address comes from it, errors are the
 *   lookup's own, and every reply encodes and decodes back.
 *
 * Input: byte 0 flags (1 IPv6, 2 has dst, 4 has spec_dst, 8 peer fe80::),
 * dst (16), spec_dst (4), ifindex (4, native order). The original corpus
 * ends there and runs against the README's stand-in host. Optionally
 * byte 25 more flags (1 peer from bytes 26..41, 2 of IPv6; 4 ifindex
 * modulo 8; 8 no lookup function; 16 every lookup fails with ENOMEM), then
 * a host: entries of a header byte (interface = low 3 bits; 0x00 IPv4
 * address, 0x40 IPv6 address, 0x80 interface without address), the
 * address (4 or 16) and a prefix byte. */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "../c/reply_cases.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Runs the README's table once; aborts on the first wrong reply. */
static void check_table(void)
{
    static int done;
    rc_host h;
    char why[160];
    size_t i;
    if (done) return;
    done = 1;
    rc_host_init(&h);
    for (i = 0; i < RC_NCASES; i++)
        if (!rc_check(&rc_cases[i], &h, why, sizeof why)) {
            fprintf(stderr, "reply rule '%s': %s\n", rc_cases[i].what, why);
            abort();
        }
}

/* Reads the host entries of data[0..size) into h. */
static void read_host(rc_host *h, const unsigned char *data, size_t size)
{
    size_t off = 0;
    memset(h, 0, sizeof *h);
    while (off < size && h->naddrs < RC_MAX && h->nifs < RC_MAX) {
        unsigned head = data[off++], kind = head & 0xc0, n = kind == 0x40 ? 16 : 4;
        uint32_t ifx = head & 7;
        unsigned i, known = 0;
        for (i = 0; i < h->nifs; i++) known |= h->ifs[i] == ifx;
        if (!known && ifx) h->ifs[h->nifs++] = ifx;
        if (kind & 0x80) continue;
        if (off + n + 1 > size) break;
        h->addrs[h->naddrs].ifindex = ifx;
        h->addrs[h->naddrs].family = n == 4 ? AF_INET : AF_INET6;
        memcpy(h->addrs[h->naddrs].a, data + off, n);
        h->addrs[h->naddrs].prefix = data[off + n] % (n * 8 + 1);
        if (ifx) h->naddrs++;
        off += n + 1;
    }
}

/* Whether the host has address a (family) on interface ifx (0: any). */
static int host_has(const rc_host *h, uint32_t ifx, int family, const unsigned char *a)
{
    unsigned i;
    for (i = 0; i < h->naddrs; i++)
        if (h->addrs[i].family == family && (!ifx || h->addrs[i].ifindex == ifx)
            && memcmp(h->addrs[i].a, a, family == AF_INET ? 4 : 16) == 0)
            return 1;
    return 0;
}

/* The invariants for an IPv4 request. */
static void check_v4(const pk_request *q, const pk_sendsrc *s, int err,
                     const rc_host *h, int lookup)
{
    static const unsigned char ones[4] = {255, 255, 255, 255}, none[4];
    int has_src = (s->has & PK_SRC_ADDR) != 0;
    int peer_ll = q->peer_family == AF_INET && q->peer[0] == 169 && q->peer[1] == 254;
    int group = pk_ip4_is_multicast(q->dst) || memcmp(q->dst, ones, 4) == 0
                || (q->has_spec_dst && memcmp(q->dst, q->spec_dst, 4) != 0)
                /* no spec_dst: a subnet broadcast (all host bits set, so the
                 * last two) that is no address of this host */
                || (lookup && !q->has_spec_dst && (q->dst[3] & 3) == 3
                    && !host_has(h, 0, AF_INET, q->dst));
    if (has_src && s->family != AF_INET) abort();
    if (group) {
        if (has_src && (pk_ip4_is_multicast(s->addr) || !memcmp(s->addr, ones, 4)
                        || !memcmp(s->addr, none, 4) || !memcmp(s->addr, q->dst, 4)))
            abort();             /* never from the group or broadcast address */
        if (q->ifindex && !(s->has & PK_SRC_IFINDEX)) abort();
        /* with a lookup, only an address of the arrival interface */
        if (!err && lookup && q->ifindex && has_src
            && !host_has(h, q->ifindex, AF_INET, s->addr))
            abort();
        /* the kernel's spec_dst, when it is one of that interface's (and
         * no group or broadcast address itself) */
        if (!err && lookup && q->ifindex && q->has_spec_dst
            && host_has(h, q->ifindex, AF_INET, q->spec_dst)
            && !pk_ip4_is_multicast(q->spec_dst) && memcmp(q->spec_dst, ones, 4)
            && memcmp(q->spec_dst, none, 4) && memcmp(q->spec_dst, q->dst, 4)
            && (!has_src || memcmp(s->addr, q->spec_dst, 4)))
            abort();
        return;
    }
    if (err) return;
    /* unicast: from the address asked, routed unless the peer is link-local */
    if (!has_src || memcmp(s->addr, q->dst, 4)) abort();
    if (!!(s->has & PK_SRC_IFINDEX) != (peer_ll && q->ifindex != 0)) abort();
}

/* The invariants for an IPv6 request (no lookups: the kernel picks). */
static void check_v6(const pk_request *q, const pk_sendsrc *s, int err,
                     const rc_host *h)
{
    static const unsigned char any[16];
    int pinned;
    if (err || h->calls || !(s->has & PK_SRC_ADDR) || s->family != AF_INET6) abort();
    if (pk_ip6_is_multicast(q->dst)) {
        if (memcmp(s->addr, any, 16)) abort();
        pinned = q->ifindex != 0;
    } else {
        if (memcmp(s->addr, q->dst, 16)) abort();
        pinned = q->ifindex && (pk_ip6_is_linklocal(q->dst)
                                || (q->peer_family == AF_INET6 && pk_ip6_is_linklocal(q->peer)));
    }
    if (!!(s->has & PK_SRC_IFINDEX) != pinned) abort();
}

/* What every reply satisfies: errors are the lookup's, a pin is the
 * request's interface, and the control messages decode back. */
static void check_common(const pk_request *q, const pk_sendsrc *s, int err,
                         int lookup, int fail)
{
    pk_recvinfo back;
    pk_cmsgbuf buf;
    long n;
    if (err && !(lookup && (err == ENODEV || err == EADDRNOTAVAIL || err == fail)))
        abort();
    if (err && (s->has & ~(unsigned)PK_SRC_IFINDEX)) abort();   /* pinned, no source */
    if ((s->has & PK_SRC_IFINDEX) && (!q->ifindex || s->ifindex != q->ifindex)) abort();
    n = pk_cmsg_encode(&buf, PK_CMSG_SEND_CAP, q->family, s);
    if (n < 0) abort();          /* a reply always fits and matches */
    if (n == 0) {
        if (s->has) abort();
        return;
    }
    pk_cmsg_decode(&buf, (size_t)n, &back);
    if (!(back.has & PK_HAS_DST)) abort();
    if (back.ifindex != (s->has & PK_SRC_IFINDEX ? s->ifindex : 0)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_request q;
    pk_sendsrc s;
    rc_host h;
    unsigned more = size > 25 ? data[25] : 0;
    int err, lookup = !(more & 8);

    check_table();
    if (size < 1 + 16 + 4 + 4) return 0;
    memset(&q, 0, sizeof q);
    q.family = data[0] & 1 ? AF_INET6 : AF_INET;
    q.has_dst = (data[0] & 2) != 0;
    q.has_spec_dst = (data[0] & 4) != 0;
    if (data[0] & 8) { q.peer_family = AF_INET6; q.peer[0] = 0xfe; q.peer[1] = 0x80; }
    memcpy(q.dst, data + 1, 16);
    memcpy(q.spec_dst, data + 17, 4);
    memcpy(&q.ifindex, data + 21, 4);
    if (more & 4) q.ifindex %= 8;
    if ((more & 1) && size >= 42) {
        q.peer_family = more & 2 ? AF_INET6 : AF_INET;
        memcpy(q.peer, data + 26, 16);
    }
    if (size <= 26) rc_host_init(&h);
    else read_host(&h, data + 42, size > 42 ? size - 42 : 0);
    if (more & 16) h.fail = ENOMEM;
    memset(&s, 0xa5, sizeof s);
    err = pk_reply_source(&q, lookup ? rc_lookup : NULL, &h, &s);
    if (!q.has_dst) {
        if (s.has || err) abort();
        return 0;
    }
    check_common(&q, &s, err, lookup, h.fail);
    if (q.family == AF_INET) check_v4(&q, &s, err, &h, lookup);
    else check_v6(&q, &s, err, &h);
    return 0;
}
