/* The reply rules of the README ("Choosing the source") as a table of
 * cases written from the README's words, not from pk_reply_source: a
 * stand-in host (interfaces and addresses), requests as recv reports them
 * (with and without spec_dst: Windows has none), and the source and
 * interface each reply must have. Shared by spec/c/test_c.c,
 * spec/windows/test_cmsg_win.c and spec/fuzz/fuzz_reply.c (which also
 * uses the stand-in lookup over its own random hosts). No Lua. */
#ifndef PK_REPLY_CASES_H
#define PK_REPLY_CASES_H

#include "pk_cmsg.h"

#include <stdio.h>
#include <string.h>

/* A host for the stand-in lookup: interfaces (by index) and addresses. */
#define RC_MAX 64
typedef struct rc_host {
    unsigned nifs, naddrs;
    uint32_t ifs[RC_MAX];
    struct { uint32_t ifindex; int family; unsigned char a[16]; unsigned prefix; } addrs[RC_MAX];
    unsigned calls;              /* lookups made (reset by the caller) */
    uint32_t last_ifindex;       /* the interface the last lookup asked for */
    int fail;                    /* non-zero: every lookup returns this */
} rc_host;

/* Shared leading bits of a and b (n bytes). */
static inline unsigned rc_common(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned bits = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)(a[i] ^ b[i]);
        if (!x) { bits += 8; continue; }
        while (!(x & 0x80)) { bits++; x = (unsigned char)(x << 1); }
        break;
    }
    return bits;
}

/* Link-local: 169.254/16, fe80::/10. */
static inline int rc_linklocal(int family, const unsigned char *a)
{
    return family == AF_INET ? a[0] == 169 && a[1] == 254
                             : a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The stand-in pk_ifaddr_fn over an rc_host (ctx), as pk_cmsg.h words
 * the contract: an address of that interface (0: any) and family; the one
 * on peer's subnet sharing the longest prefix with it, else one of peer's
 * scope, else the first; ENODEV for an unknown interface, EADDRNOTAVAIL
 * for one without such an address. */
static inline int rc_lookup(void *ctx, uint32_t ifindex, int family,
                            const unsigned char *peer, unsigned char *out)
{
    rc_host *h = (rc_host *)ctx;
    size_t n = family == AF_INET ? 4 : 16;
    int best = -1;
    unsigned i, best_score = 0, known = ifindex == 0;
    h->calls++;
    h->last_ifindex = ifindex;
    if (h->fail) return h->fail;
    for (i = 0; i < h->nifs; i++) if (h->ifs[i] == ifindex) known = 1;
    if (!known) return ENODEV;
    for (i = 0; i < h->naddrs; i++) {
        unsigned score = 0;
        if (h->addrs[i].family != family || (ifindex && h->addrs[i].ifindex != ifindex))
            continue;
        if (peer) {
            unsigned c = rc_common(h->addrs[i].a, peer, n);
            if (c >= h->addrs[i].prefix) score = 2 + c;
            else score = rc_linklocal(family, h->addrs[i].a) == rc_linklocal(family, peer);
        }
        if (best < 0 || score > best_score) { best = (int)i; best_score = score; }
    }
    if (best < 0) return EADDRNOTAVAIL;
    memcpy(out, h->addrs[best].a, n);
    return 0;
}

/* The stand-in host of the cases:
 *   1 lo    127.0.0.1/8  192.0.2.63/32 (a service address)  ::1/128
 *   2 eth0  192.0.2.1/24  192.0.2.2/24  2001:db8:a::1/64  fe80::a/64
 *   3 eth1  198.51.100.1/24  169.254.10.1/16  fe80::b/64
 *   4 eth2  169.254.20.1/16  203.0.113.1/24
 *   5 eth3  2001:db8:c::1/64 (no IPv4)
 * and no interface 9 (it went away). */
static const struct { unsigned ifindex; const char *text; unsigned prefix; } rc_host_addrs[] = {
    {1, "127.0.0.1", 8}, {1, "192.0.2.63", 32}, {1, "::1", 128},
    {2, "192.0.2.1", 24}, {2, "192.0.2.2", 24}, {2, "2001:db8:a::1", 64}, {2, "fe80::a", 64},
    {3, "198.51.100.1", 24}, {3, "169.254.10.1", 16}, {3, "fe80::b", 64},
    {4, "169.254.20.1", 16}, {4, "203.0.113.1", 24},
    {5, "2001:db8:c::1", 64},
};

/* Fills h with the stand-in host above. */
static inline void rc_host_init(rc_host *h)
{
    unsigned i;
    memset(h, 0, sizeof *h);
    for (i = 1; i <= 5; i++) h->ifs[h->nifs++] = i;
    for (i = 0; i < sizeof rc_host_addrs / sizeof *rc_host_addrs; i++) {
        const char *t = rc_host_addrs[i].text;
        h->addrs[i].ifindex = rc_host_addrs[i].ifindex;
        h->addrs[i].family = strchr(t, ':') ? AF_INET6 : AF_INET;
        h->addrs[i].prefix = rc_host_addrs[i].prefix;
        inet_pton(h->addrs[i].family, t, h->addrs[i].a);
        h->naddrs++;
    }
}

/* One case: the request (dst NULL: no packet info; spec_dst NULL: none, as
 * on Windows; peer NULL: unknown), and what the reply must be: its return
 * value, its source (NULL: none, the stack picks), the interface it is
 * pinned to (0: routed) and whether it may look interfaces up at all. */
typedef struct rc_case {
    const char *what;
    const char *dst, *spec_dst;
    unsigned ifindex;
    const char *peer;
    int err;
    const char *src;
    unsigned pinned;
    int no_lookup;
} rc_case;

static const rc_case rc_cases[] = {
    /* IPv4 unicast: from the address asked, routed; Linux (spec_dst) needs
     * no lookup, Windows only for an address that could be a broadcast */
    {"v4 unicast to a link's address", "192.0.2.1", "192.0.2.1", 2, "198.51.100.7", 0, "192.0.2.1", 0, 1},
    {"v4 unicast to the service address on lo", "192.0.2.63", "192.0.2.63", 2, "203.0.113.9", 0, "192.0.2.63", 0, 1},
    {"v4 unicast to another link's address (weak host)", "198.51.100.1", "198.51.100.1", 2, "192.0.2.77", 0, "198.51.100.1", 0, 1},
    {"v4 unicast, no spec_dst", "192.0.2.1", NULL, 2, "192.0.2.77", 0, "192.0.2.1", 0, 1},
    {"v4 unicast, no spec_dst, to an address ending in binary 11", "192.0.2.63", NULL, 2, "192.0.2.77", 0, "192.0.2.63", 0, 0},
    /* IPv4 broadcast and multicast: out of the arrival link, from its own
     * address; the kernel's spec_dst where it is one of that link's */
    {"v4 subnet broadcast", "192.0.2.255", "192.0.2.1", 2, "192.0.2.77", 0, "192.0.2.1", 2, 0},
    {"v4 subnet broadcast, spec_dst the link's second address", "192.0.2.255", "192.0.2.2", 2, "192.0.2.77", 0, "192.0.2.2", 2, 0},
    {"v4 subnet broadcast, spec_dst another link's (asymmetric route)", "198.51.100.255", "203.0.113.1", 3, "198.51.100.2", 0, "198.51.100.1", 3, 0},
    {"v4 limited broadcast from a link-local peer, spec_dst another link's", "255.255.255.255", "169.254.20.1", 3, "169.254.99.9", 0, "169.254.10.1", 3, 0},
    {"v4 multicast", "224.0.0.251", "198.51.100.1", 3, "198.51.100.7", 0, "198.51.100.1", 3, 0},
    {"v4 multicast whose spec_dst is the group", "224.0.0.251", "224.0.0.251", 3, "198.51.100.7", 0, "198.51.100.1", 3, 0},
    {"v4 subnet broadcast, no spec_dst", "192.0.2.255", NULL, 2, "192.0.2.77", 0, "192.0.2.1", 2, 0},
    {"v4 limited broadcast, no spec_dst, link-local peer", "255.255.255.255", NULL, 3, "169.254.5.5", 0, "169.254.10.1", 3, 0},
    {"v4 limited broadcast, no spec_dst, peer on no subnet", "255.255.255.255", NULL, 4, "198.18.0.1", 0, "203.0.113.1", 4, 0},
    {"v4 multicast, no spec_dst", "239.1.2.3", NULL, 3, "198.51.100.7", 0, "198.51.100.1", 3, 0},
    {"v4 broadcast without an ifindex: spec_dst, routed", "255.255.255.255", "192.0.2.1", 0, "192.0.2.77", 0, "192.0.2.1", 0, 1},
    /* errors: pinned to the request's interface, no source */
    {"v4 multicast on a link without IPv4", "224.0.0.251", NULL, 5, "198.51.100.7", EADDRNOTAVAIL, NULL, 5, 0},
    {"v4 broadcast on a vanished interface", "255.255.255.255", NULL, 9, "192.0.2.77", ENODEV, NULL, 9, 0},
    {"v4 subnet broadcast on a vanished interface", "192.0.2.255", "192.0.2.1", 9, "192.0.2.77", ENODEV, NULL, 9, 0},
    /* IPv4 link-local peers: on the interface they came from */
    {"v4 link-local peer", "169.254.20.1", "169.254.20.1", 4, "169.254.7.7", 0, "169.254.20.1", 4, 1},
    {"v4 link-local peer, no spec_dst", "169.254.20.1", NULL, 4, "169.254.7.7", 0, "169.254.20.1", 4, 1},
    {"v4 link-local peer on a vanished interface (the kernel refuses)", "169.254.20.1", "169.254.20.1", 9, "169.254.7.7", 0, "169.254.20.1", 9, 1},
    {"v4 link-local address asked by a routable peer", "169.254.20.1", "169.254.20.1", 4, "203.0.113.9", 0, "169.254.20.1", 0, 1},
    /* IPv6 */
    {"v6 unicast", "2001:db8:a::1", NULL, 2, "2001:db8:ff::1", 0, "2001:db8:a::1", 0, 1},
    {"v6 unicast to a link-local address", "fe80::a", NULL, 2, "fe80::99", 0, "fe80::a", 2, 1},
    {"v6 global address asked by a link-local peer", "2001:db8:a::1", NULL, 2, "fe80::99", 0, "2001:db8:a::1", 2, 1},
    {"v6 multicast: '::' on the arrival link", "ff02::fb", NULL, 3, "fe80::5", 0, "::", 3, 1},
    {"v6 multicast without an ifindex", "ff02::fb", NULL, 0, "fe80::5", 0, "::", 0, 1},
    {"v6 link-local peer on a vanished interface", "fe80::a", NULL, 9, "fe80::99", 0, "fe80::a", 9, 1},
    /* no packet info: nothing to say */
    {"no packet info", NULL, NULL, 0, "192.0.2.77", 0, NULL, 0, 1},
};

/* Builds the request of case c. */
static inline void rc_request(const rc_case *c, pk_request *r)
{
    memset(r, 0, sizeof *r);
    r->ifindex = c->ifindex;
    if (c->peer) {
        r->peer_family = strchr(c->peer, ':') ? AF_INET6 : AF_INET;
        inet_pton(r->peer_family, c->peer, r->peer);
    }
    if (!c->dst) { r->family = r->peer_family; return; }
    r->has_dst = 1;
    r->family = strchr(c->dst, ':') ? AF_INET6 : AF_INET;
    inet_pton(r->family, c->dst, r->dst);
    if (c->spec_dst) {
        r->has_spec_dst = 1;
        inet_pton(AF_INET, c->spec_dst, r->spec_dst);
    }
}

/* Runs case c against pk_reply_source with the stand-in host h; returns 1
 * if the reply is what the README says, else 0 with the reason in why. */
static inline int rc_check(const rc_case *c, rc_host *h, char *why, size_t cap)
{
    pk_request r;
    pk_sendsrc s;
    unsigned char want[16];
    int err, fam;
    rc_request(c, &r);
    memset(&s, 0xa5, sizeof s);
    h->calls = 0;
    err = pk_reply_source(&r, rc_lookup, h, &s);
    fam = c->src && strchr(c->src, ':') ? AF_INET6 : AF_INET;
    if (c->src) inet_pton(fam, c->src, want);
    if (err != c->err)
        snprintf(why, cap, "returned %d, want %d", err, c->err);
    else if (!c->src != !(s.has & PK_SRC_ADDR))
        snprintf(why, cap, "source %s, want %s", s.has & PK_SRC_ADDR ? "set" : "none",
                 c->src ? c->src : "none");
    else if (c->src && (s.family != fam || memcmp(s.addr, want, fam == AF_INET ? 4 : 16)))
        snprintf(why, cap, "wrong source (want %s)", c->src);
    else if (!c->pinned != !(s.has & PK_SRC_IFINDEX) || (c->pinned && s.ifindex != c->pinned))
        snprintf(why, cap, "pinned to %u, want %u", s.has & PK_SRC_IFINDEX ? s.ifindex : 0, c->pinned);
    else if (c->no_lookup && h->calls)
        snprintf(why, cap, "%u interface lookups, want none", h->calls);
    else
        return 1;
    return 0;
}

#define RC_NCASES (sizeof rc_cases / sizeof *rc_cases)

#endif
