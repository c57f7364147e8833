/* Unit tests of the plain-C layer, with no Lua: the address formatter
 * against inet_ntop, the parser, control-message decode and encode (exact
 * bytes; every platform's in test_platforms.c), the reply-source rules
 * (spec/c/reply_cases.h), the interface list and lookup, the IPv4-disabled
 * rule, also on its real path through pk_sock_setopt, and segmentation
 * offload (offload_tests.h). Prints one line per failure and a closing
 * count; exits non-zero on any failure. */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "pk_iface.h"
#include "pk_sock.h"
#include "pk_gw.h"
#include "reply_cases.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

int pk_passed, pk_failed;

#ifndef __GLIBC__
/* The first of two or more longest runs of zero groups (each at least two
 * long) of equal length, as a group index, or -1 when there is no tie. */
static int first_tied_run(const unsigned char a[16])
{
    int i = 0, best = -1, bestlen = 1, tie = 0;
    while (i < 8) {
        int j = i;
        while (j < 8 && a[2 * j] == 0 && a[2 * j + 1] == 0) j++;
        if (j - i > bestlen) { best = i; bestlen = j - i; tie = 0; }
        else if (j - i == bestlen && best >= 0) tie = 1;
        i = j > i ? j : i + 1;
    }
    return tie ? best : -1;
}

/* The group index where "::" stands in text. */
static int gap_at(const char *text)
{
    const char *gap = strstr(text, "::"), *p;
    int groups = 0;
    if (!gap) return -1;
    if (gap == text) return 0;
    for (p = text; p < gap; p++) groups += *p == ':';
    return groups + 1;
}

/* Where ours may differ from a C library other than glibc (musl): the
 * text must still read back as a, and be glibc's form: the first of tied
 * zero runs shortened (RFC 5952 4.2.3; musl shortens the last), and an
 * IPv4-compatible address (::a.b.c.d, first 96 bits zero) written dotted
 * (musl writes hex groups). */
static int glibc_form(const unsigned char a[16], const char *ours)
{
    static const unsigned char zero12[12];
    unsigned char back[16];
    int tied = first_tied_run(a);
    if (inet_pton(AF_INET6, ours, back) != 1 || memcmp(back, a, 16) != 0) return 0;
    if (tied >= 0 && gap_at(ours) != tied) return 0;
    if (memcmp(a, zero12, 12) == 0 && (a[12] | a[13]) != 0 && !strchr(ours, '.'))
        return 0;
    return 1;
}
#endif

/* Our IPv6 text must equal inet_ntop's, byte for byte (glibc's, which
 * follows RFC 5952; elsewhere see glibc_form). */
static void check_ip6(const unsigned char a[16])
{
    char ours[PK_ADDRSTRLEN], libc[INET6_ADDRSTRLEN];
    size_t n = pk_format_ip6(a, ours);
    inet_ntop(AF_INET6, a, libc, sizeof libc);
#ifndef __GLIBC__
    if (strcmp(ours, libc) != 0) {
        CHECK(glibc_form(a, ours) && n == strlen(ours),
              "ip6 ours '%s' libc '%s': not glibc's form of the address", ours, libc);
        return;
    }
#endif
    CHECK(strcmp(ours, libc) == 0 && n == strlen(libc),
          "ip6 ours '%s' libc '%s'", ours, libc);
}

/* Our IPv4 text must equal inet_ntop's. */
static void check_ip4(const unsigned char a[4])
{
    char ours[PK_ADDRSTRLEN], libc[INET_ADDRSTRLEN];
    size_t n = pk_format_ip4(a, ours);
    inet_ntop(AF_INET, a, libc, sizeof libc);
    CHECK(strcmp(ours, libc) == 0 && n == strlen(libc),
          "ip4 ours '%s' libc '%s'", ours, libc);
}

/* Edge cases: every pattern of zero groups, embedded IPv4 forms. */
static void test_format(void)
{
    unsigned char a[16];
    unsigned mask;
    int i, round;
    static const char *texts[] = {
        "::", "::1", "::2", "1::", "::ffff:1.2.3.4", "::1.2.3.4",
        "::ffff:0:0", "::ffff:0.0.0.1", "0:0:0:0:0:1:0:0", "fe80::1",
        "2001:db8::1:0:0:1", "2001:db8:0:0:1:0:0:1", "1:0:1:0:1:0:1:0",
        "ff02::fb", "64:ff9b::192.0.2.33", "::fffe:1.2.3.4", "0:0:0:0:1:ffff:1.2.3.4"
    };
    for (i = 0; i < (int)(sizeof texts / sizeof *texts); i++) {
        CHECK(inet_pton(AF_INET6, texts[i], a) == 1, "pton %s", texts[i]);
        check_ip6(a);
    }
    /* all 256 patterns of zero / non-zero groups, with two values each */
    for (mask = 0; mask < 256; mask++)
        for (round = 0; round < 2; round++) {
            for (i = 0; i < 8; i++) {
                unsigned v = (mask >> i & 1) ? (round ? 0xffffu : (unsigned)(i + 1) * 0x101u) : 0;
                a[2 * i] = (unsigned char)(v >> 8);
                a[2 * i + 1] = (unsigned char)v;
            }
            check_ip6(a);
        }
    srand(12345);
    for (round = 0; round < 200000; round++) {
        for (i = 0; i < 16; i++)
            a[i] = (rand() % 3 == 0) ? 0 : (unsigned char)rand();
        if (round % 7 == 0) memset(a, 0, 10), a[10] = a[11] = 0xff;
        check_ip6(a);
        check_ip4(a);
    }
    a[0] = 0; a[1] = 0; a[2] = 0; a[3] = 0; check_ip4(a);
    memset(a, 255, 4); check_ip4(a);
}

/* Numeric text only, scopes, and refusals. */
static void test_parse(void)
{
    pk_sockaddr sa;
    CHECK(pk_addr_parse("192.0.2.1", 9, &sa) == 0 && sa.sa.sa_family == AF_INET, "v4");
    CHECK(pk_addr_parse("2001:db8::1", 11, &sa) == 0 && sa.sa.sa_family == AF_INET6, "v6");
    CHECK(pk_addr_parse("fe80::1%1", 9, &sa) == 0 && sa.v6.sin6_scope_id == 1, "scope index");
    CHECK(pk_addr_parse("fe80::1%lo", 10, &sa) == 0 && sa.v6.sin6_scope_id == if_nametoindex("lo"), "scope name");
    CHECK(pk_addr_parse("fe80::1%nosuchif0", 17, &sa) == PK_PARSE_NOSCOPE, "unknown scope");
    CHECK(pk_addr_parse("fe80::1%4294967295", 18, &sa) == 0
          && sa.v6.sin6_scope_id == 0xffffffffu, "largest scope index");
    CHECK(pk_addr_parse("fe80::1%4294967296", 18, &sa) == PK_PARSE_BAD,
          "scope index 2^32 (32-bit long: strtoul saturates)");
    CHECK(pk_addr_parse("fe80::1%18446744073709551617", 28, &sa) == PK_PARSE_BAD,
          "scope index past 2^64");
    CHECK(pk_addr_parse("fe80::1%0", 9, &sa) == PK_PARSE_BAD, "scope index 0");
    CHECK(pk_addr_parse("localhost", 9, &sa) == PK_PARSE_BAD, "no names");
    CHECK(pk_addr_parse("", 0, &sa) == PK_PARSE_BAD, "empty");
    CHECK(pk_addr_parse("1.2.3.4\0x", 9, &sa) == PK_PARSE_BAD, "embedded NUL");
    CHECK(pk_addr_parse("1.2.3.4 ", 8, &sa) == PK_PARSE_BAD, "trailing garbage");
    CHECK(pk_addr_parse("1.2.3", 5, &sa) == PK_PARSE_BAD, "short v4");
    CHECK(pk_addr_parse("fe80::1%", 8, &sa) == PK_PARSE_BAD, "empty scope");
}

/* Builds one control message into buf at *off. */
static void add_cmsg(unsigned char *buf, size_t *off, int level, int type,
                     const void *data, size_t len)
{
    struct cmsghdr h;
    memset(&h, 0, sizeof h);
    h.cmsg_level = level;
    h.cmsg_type = type;
    h.cmsg_len = CMSG_LEN(len);
    memcpy(buf + *off, &h, sizeof h);
    memcpy(buf + *off + CMSG_LEN(0), data, len);
    *off += CMSG_SPACE(len);
}

/* Decoding: IPv4 pktinfo wins over a v4-mapped IPv6 one in either order;
 * short and unknown messages are skipped. */
static void test_decode(void)
{
    pk_cmsgbuf cb;
    pk_recvinfo ri;
    struct in_pktinfo p4;
    struct in6_pktinfo p6;
    size_t off = 0;
    int ttl = 63;
    unsigned char tos = 0xb9;

    memset(&cb, 0, sizeof cb);
    memset(&p6, 0, sizeof p6);
    inet_pton(AF_INET6, "::ffff:192.0.2.9", &p6.ipi6_addr);
    p6.ipi6_ifindex = 7;
    memset(&p4, 0, sizeof p4);
    inet_pton(AF_INET, "192.0.2.9", &p4.ipi_addr);
    inet_pton(AF_INET, "192.0.2.1", &p4.ipi_spec_dst);
    p4.ipi_ifindex = 3;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof p6);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_PKTINFO, &p4, sizeof p4);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_TOS, &tos, 1);
    add_cmsg(cb.bytes, &off, 12345, 1, &ttl, sizeof ttl);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.has & PK_HAS_DST && ri.dst_family == AF_INET && ri.ifindex == 3,
          "v4 pktinfo wins (ifindex %u)", ri.ifindex);
    CHECK(ri.has & PK_HAS_SPEC_DST && ri.spec_dst[3] == 1, "spec_dst");
    CHECK(ri.has & PK_HAS_TTL && ri.ttl == 63, "ttl");
    CHECK(ri.has & PK_HAS_TOS && ri.tos == 0xb9, "tos byte");

    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_PKTINFO, &p6, sizeof p6);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.has & PK_HAS_DST && ri.dst_family == AF_INET && ri.dst[3] == 9
          && !(ri.has & PK_HAS_SPEC_DST) && ri.ifindex == 7, "v4-mapped alone");

    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_PKTINFO, &p4, 4);   /* short */
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.has == 0, "short message skipped");
    pk_cmsg_decode(&cb, 3, &ri);
    CHECK(ri.has == 0, "buffer shorter than a header");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_PKTINFO, &p4, sizeof p4);
    pk_cmsg_decode(&cb, CMSG_LEN(sizeof p4) - 4, &ri);
    CHECK(!(ri.has & PK_HAS_DST), "payload cut by the buffer end");
}

/* Option recvorigdst: IP_ORIGDSTADDR and IPV6_ORIGDSTADDR; the IPv4 one
 * wins over a v4-mapped IPv6 one in either order; short ones skipped. */
static void test_decode_origdst(void)
{
#if defined(IP_ORIGDSTADDR) && defined(IPV6_ORIGDSTADDR)
    pk_cmsgbuf cb;
    pk_recvinfo ri;
    struct sockaddr_in o4;
    struct sockaddr_in6 o6, m6;
    size_t off = 0;

    memset(&cb, 0, sizeof cb);
    memset(&o4, 0, sizeof o4);
    o4.sin_family = AF_INET;
    o4.sin_port = htons(53);
    inet_pton(AF_INET, "203.0.113.99", &o4.sin_addr);
    memset(&o6, 0, sizeof o6);
    o6.sin6_family = AF_INET6;
    o6.sin6_port = htons(853);
    inet_pton(AF_INET6, "2001:db8:99::99", &o6.sin6_addr);
    m6 = o6;
    inet_pton(AF_INET6, "::ffff:192.0.2.77", &m6.sin6_addr);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_ORIGDSTADDR, &o4, sizeof o4);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK((ri.has & PK_HAS_ORIGDST) && ri.orig_family == AF_INET && ri.orig[0] == 203
          && ri.orig[3] == 99 && ri.orig_port == 53, "IP_ORIGDSTADDR");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_ORIGDSTADDR, &o6, sizeof o6);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK((ri.has & PK_HAS_ORIGDST) && ri.orig_family == AF_INET6 && ri.orig[15] == 0x99
          && ri.orig_port == 853, "IPV6_ORIGDSTADDR");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_ORIGDSTADDR, &m6, sizeof m6);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_ORIGDSTADDR, &o4, sizeof o4);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.orig_family == AF_INET && ri.orig[3] == 99 && ri.orig_port == 53, "IPv4 one wins (after)");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_ORIGDSTADDR, &o4, sizeof o4);
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_ORIGDSTADDR, &m6, sizeof m6);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.orig_family == AF_INET && ri.orig[3] == 99 && ri.orig_port == 53, "IPv4 one wins (before)");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_ORIGDSTADDR, &m6, sizeof m6);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(ri.orig_family == AF_INET && ri.orig[3] == 77, "v4-mapped alone is IPv4");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_ORIGDSTADDR, &o6, sizeof o6 - 1);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_ORIGDSTADDR, &o4, 4);
    pk_cmsg_decode(&cb, off, &ri);
    CHECK(!(ri.has & PK_HAS_ORIGDST), "short ones skipped");
#endif
}

/* The error queue: sock_extended_err with and without an offender, at
 * both levels; short or foreign messages are not errors. */
static void test_errq(void)
{
#ifdef PK_HAVE_ERRQUEUE
    pk_cmsgbuf cb;
    pk_errinfo e;
    struct { struct sock_extended_err ee; struct sockaddr_in6 off; } m;
    struct sockaddr_in o4;
    size_t off = 0;

    memset(&cb, 0, sizeof cb);
    memset(&m, 0, sizeof m);
    m.ee.ee_errno = ECONNREFUSED;
    m.ee.ee_origin = SO_EE_ORIGIN_ICMP;
    m.ee.ee_type = 3;
    m.ee.ee_code = 3;
    memset(&o4, 0, sizeof o4);
    o4.sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.2", &o4.sin_addr);
    memcpy(&m.off, &o4, sizeof o4);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_RECVERR, &m, sizeof m.ee + sizeof o4);
    CHECK(pk_errq_decode(&cb, off, &e) && e.err == ECONNREFUSED && e.origin == PK_ORIGIN_ICMP
          && e.type == 3 && e.code == 3 && e.has_offender && e.offender.sa.sa_family == AF_INET
          && ((unsigned char *)&e.offender.v4.sin_addr)[3] == 2, "IP_RECVERR with offender");
    off = 0;
    m.ee.ee_errno = EMSGSIZE;
    m.ee.ee_origin = SO_EE_ORIGIN_ICMP6;
    m.ee.ee_type = 2;
    m.ee.ee_code = 0;
    m.ee.ee_info = 1280;
    memset(&m.off, 0, sizeof m.off);
    m.off.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:1::1", &m.off.sin6_addr);
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_RECVERR, &m, sizeof m);
    CHECK(pk_errq_decode(&cb, off, &e) && e.err == EMSGSIZE && e.info == 1280 && e.has_offender
          && e.offender.sa.sa_family == AF_INET6 && e.offender.v6.sin6_addr.s6_addr[15] == 1,
          "IPV6_RECVERR with offender and mtu");
    off = 0;
    m.ee.ee_origin = SO_EE_ORIGIN_LOCAL;
    memset(&m.off, 0, sizeof m.off);          /* local errors: family 0 */
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_RECVERR, &m, sizeof m);
    CHECK(pk_errq_decode(&cb, off, &e) && e.origin == PK_ORIGIN_LOCAL && !e.has_offender, "local error");
    off = 0;
    m.off.sin6_family = AF_INET6;
    add_cmsg(cb.bytes, &off, IPPROTO_IPV6, IPV6_RECVERR, &m, sizeof m.ee + 8);
    CHECK(pk_errq_decode(&cb, off, &e) && !e.has_offender, "offender cut short: none");
    off = 0;
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_RECVERR, &m, sizeof m.ee - 1);
    add_cmsg(cb.bytes, &off, IPPROTO_IP, IP_PKTINFO, &m, 12);
    CHECK(!pk_errq_decode(&cb, off, &e), "short extended error, other messages: none");
    CHECK(!pk_errq_decode(&cb, 3, &e), "buffer shorter than a header");
#endif
}

/* Encoding: the exact bytes of IP_PKTINFO with the source in ipi_spec_dst
 * (ipi_addr zero: the kernel ignores it), and IPV6_PKTINFO. */
static void test_encode(void)
{
    pk_cmsgbuf cb;
    pk_sendsrc src;
    struct cmsghdr h;
    struct in_pktinfo p4;
    struct in6_pktinfo p6;
    long n;

    memset(&src, 0, sizeof src);
    src.has = PK_SRC_ADDR | PK_SRC_IFINDEX;
    src.family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", src.addr);
    src.ifindex = 4;
    n = pk_cmsg_encode(&cb, sizeof cb, AF_INET, &src);
    CHECK(n == (long)CMSG_SPACE(sizeof p4), "v4 length %ld", n);
    memcpy(&h, cb.bytes, sizeof h);
    CHECK(h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO
          && h.cmsg_len == CMSG_LEN(sizeof p4), "v4 header");
    memcpy(&p4, cb.bytes + CMSG_LEN(0), sizeof p4);
    CHECK(p4.ipi_ifindex == 4 && p4.ipi_spec_dst.s_addr == htonl(0xc0000201)
          && p4.ipi_addr.s_addr == 0, "v4 payload");
    {
        /* byte image: cmsg_len (8 bytes on LP64), level 0, type 8, then
         * ifindex 4, spec_dst 192.0.2.1, addr 0.0.0.0 */
        static const unsigned char expect[] = {
            28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0,
            4, 0, 0, 0, 192, 0, 2, 1, 0, 0, 0, 0};
        if (sizeof(size_t) == 8)
            CHECK(memcmp(cb.bytes, expect, sizeof expect) == 0, "v4 exact bytes");
    }

    src.ttl = 9;
    src.tos = 0x10;
    src.has |= PK_SRC_TTL | PK_SRC_TOS;
    n = pk_cmsg_encode(&cb, sizeof cb, AF_INET, &src);
    CHECK(n == (long)(CMSG_SPACE(sizeof p4) + 2 * CMSG_SPACE(sizeof(int))), "v4 + ttl + tos");

    memset(&src, 0, sizeof src);
    src.has = PK_SRC_ADDR;
    src.family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", src.addr);
    n = pk_cmsg_encode(&cb, sizeof cb, AF_INET6, &src);
    memcpy(&h, cb.bytes, sizeof h);
    memcpy(&p6, cb.bytes + CMSG_LEN(0), sizeof p6);
    CHECK(n == (long)CMSG_SPACE(sizeof p6) && h.cmsg_level == IPPROTO_IPV6
          && h.cmsg_type == IPV6_PKTINFO && p6.ipi6_ifindex == 0
          && memcmp(&p6.ipi6_addr, src.addr, 16) == 0, "v6 pktinfo");
    CHECK(pk_cmsg_encode(&cb, sizeof cb, AF_INET, &src) == -1, "family mismatch refused");
    CHECK(pk_cmsg_encode(&cb, 8, AF_INET6, &src) == -1, "too small refused");
    src.has = 0;
    CHECK(pk_cmsg_encode(&cb, sizeof cb, AF_INET6, &src) == 0, "nothing to say");
}

/* The README's reply rules, case by case (spec/c/reply_cases.h), with a
 * stand-in host in place of the system's interfaces. */
static void test_reply_rules(void)
{
    rc_host h;
    char why[160];
    size_t i;
    rc_host_init(&h);
    for (i = 0; i < RC_NCASES; i++) {
        why[0] = '\0';
        CHECK(rc_check(&rc_cases[i], &h, why, sizeof why), "reply rule '%s': %s",
              rc_cases[i].what, why);
    }
}

/* Without a lookup function (ifaddr NULL) the rules still never answer a
 * group from its own address; a failing lookup gives its error, and the
 * reply stays pinned with no source. */
static void test_reply_without_lookup(void)
{
    pk_request r;
    pk_sendsrc s;
    rc_host h;
    rc_case c;
    memset(&c, 0, sizeof c);
    c.dst = "255.255.255.255";
    c.ifindex = 5;
    rc_request(&c, &r);
    CHECK(pk_reply_source(&r, NULL, NULL, &s) == 0 && s.has == PK_SRC_IFINDEX
          && s.ifindex == 5, "no lookup: limited broadcast pinned, the stack picks the source");
    c.dst = "224.0.0.251";
    c.spec_dst = "198.51.100.1";
    rc_request(&c, &r);
    CHECK(pk_reply_source(&r, NULL, NULL, &s) == 0
          && s.has == (PK_SRC_ADDR | PK_SRC_IFINDEX) && s.addr[0] == 198,
          "no lookup: multicast from spec_dst");
    c.spec_dst = "224.0.0.251";
    rc_request(&c, &r);
    CHECK(pk_reply_source(&r, NULL, NULL, &s) == 0 && s.has == PK_SRC_IFINDEX,
          "no lookup: never from the group, even when spec_dst says so");
    rc_host_init(&h);
    h.fail = ENOMEM;
    c.dst = "192.0.2.255";
    c.spec_dst = "192.0.2.1";
    c.ifindex = 2;
    rc_request(&c, &r);
    CHECK(pk_reply_source(&r, rc_lookup, &h, &s) == ENOMEM && s.has == PK_SRC_IFINDEX
          && s.ifindex == 2, "a failed lookup: its error, pinned, no source");
}

/* Adds "text/prefix" of interface index to l. */
static void add_addr(pk_iflist *l, uint32_t index, const char *text, unsigned prefix)
{
    unsigned char a[16];
    int fam = strchr(text, ':') ? AF_INET6 : AF_INET;
    inet_pton(fam, text, a);
    CHECK(pk_iflist_addr(l, index, fam, a, prefix) == 0, "add %s", text);
}

/* Picks text's address from l (ifindex, peer text or NULL); returns the
 * error, the address as text in out. */
static int pick(const pk_iflist *l, uint32_t ifindex, int fam, const char *peer,
                char *out)
{
    unsigned char p[16], a[16];
    int err;
    if (peer) inet_pton(fam, peer, p);
    err = pk_iface_pick(l, ifindex, fam, peer ? p : NULL, a);
    if (!err) inet_ntop(fam, a, out, INET6_ADDRSTRLEN);
    else strcpy(out, "-");
    return err;
}

/* pk_iface_pick: the peer's subnet first (the longest shared prefix, so
 * an address itself), then its scope, then the first listed; ENODEV for
 * an unknown interface, EADDRNOTAVAIL for one without the family. */
static void test_iface_pick(void)
{
    pk_iflist l;
    char t[INET6_ADDRSTRLEN];
    memset(&l, 0, sizeof l);
    CHECK(pk_iflist_iface(&l, 7, "b", 0) == 0 && pk_iflist_iface(&l, 3, "a", 1) == 0
          && pk_iflist_iface(&l, 7, "ignored", 1) == 0 && pk_iflist_iface(&l, 9, NULL, 0) == 0,
          "interfaces");
    add_addr(&l, 3, "169.254.3.3", 16);
    add_addr(&l, 3, "192.0.2.1", 24);
    add_addr(&l, 3, "192.0.2.129", 25);
    add_addr(&l, 3, "2001:db8::1", 64);
    add_addr(&l, 3, "fe80::3", 64);
    add_addr(&l, 7, "198.51.100.7", 24);
    pk_iflist_sort(&l);
    CHECK(l.nifs == 3 && l.ifs[0].index == 3 && l.ifs[1].index == 7 && l.ifs[2].index == 9
          && strcmp(l.ifs[1].name, "b") == 0 && l.ifs[1].up, "sorted, first name kept, up or-ed");
    CHECK(pick(&l, 3, AF_INET, "192.0.2.200", t) == 0 && strcmp(t, "192.0.2.129") == 0,
          "the narrower subnet holding the peer: %s", t);
    CHECK(pick(&l, 3, AF_INET, "192.0.2.5", t) == 0 && strcmp(t, "192.0.2.1") == 0,
          "the subnet holding the peer: %s", t);
    CHECK(pick(&l, 3, AF_INET, "192.0.2.129", t) == 0 && strcmp(t, "192.0.2.129") == 0,
          "an address itself: %s", t);
    CHECK(pick(&l, 3, AF_INET, "169.254.77.1", t) == 0 && strcmp(t, "169.254.3.3") == 0,
          "link-local peer: %s", t);
    CHECK(pick(&l, 3, AF_INET, "203.0.113.9", t) == 0 && strcmp(t, "192.0.2.1") == 0,
          "no subnet: same scope (not link-local) first: %s", t);
    CHECK(pick(&l, 3, AF_INET, NULL, t) == 0 && strcmp(t, "169.254.3.3") == 0,
          "no peer: the first: %s", t);
    CHECK(pick(&l, 3, AF_INET6, "fe80::99", t) == 0 && strcmp(t, "fe80::3") == 0,
          "v6 link-local peer: %s", t);
    CHECK(pick(&l, 3, AF_INET6, "2001:db8:1::9", t) == 0 && strcmp(t, "2001:db8::1") == 0,
          "v6 global peer: %s", t);
    CHECK(pick(&l, 0, AF_INET, "198.51.100.7", t) == 0 && strcmp(t, "198.51.100.7") == 0,
          "any interface: %s", t);
    CHECK(pick(&l, 7, AF_INET6, NULL, t) == EADDRNOTAVAIL, "no address of the family");
    CHECK(pick(&l, 9, AF_INET, NULL, t) == EADDRNOTAVAIL, "no address at all");
    CHECK(pick(&l, 8, AF_INET, NULL, t) == ENODEV, "no such interface");
    pk_iface_free(&l);
    pk_iface_free(&l);
    CHECK(l.nifs == 0 && l.ifs == NULL, "freed twice");
}

/* The system's list (getifaddrs): loopback with 127.0.0.1/8 under the
 * index if_nametoindex gives, and the lookup over it. */
static void test_iface_system(void)
{
    pk_iflist l;
    unsigned char peer[4] = {127, 0, 0, 9}, a[4];
    uint32_t lo = if_nametoindex("lo");
    size_t i;
    int found = 0, has_addr = 0;
    CHECK(pk_iface_list(&l) == 0, "pk_iface_list");
    for (i = 0; i < l.nifs; i++)
        if (l.ifs[i].index == lo && strcmp(l.ifs[i].name, "lo") == 0 && l.ifs[i].up) found = 1;
    for (i = 0; i < l.naddrs; i++)
        if (l.addrs[i].ifindex == lo && l.addrs[i].family == AF_INET
            && l.addrs[i].addr[0] == 127 && l.addrs[i].prefix == 8) has_addr = 1;
    CHECK(found && has_addr, "lo listed with 127.0.0.1/8");
    pk_iface_free(&l);
    CHECK(pk_iface_addr(NULL, lo, AF_INET, peer, a) == 0 && a[0] == 127 && a[3] == 1,
          "lookup on lo");
    CHECK(pk_iface_addr(NULL, 999999, AF_INET, peer, a) == ENODEV, "vanished interface");
}

static int probe_eafnosupport(void) { return EAFNOSUPPORT; }
static int probe_ok(void) { return 0; }

/* The page's rule: EINVAL on a dual-stack socket is ignored only when
 * creating an AF_INET socket fails with EAFNOSUPPORT. */
static void test_ipv4_disabled_rule(void)
{
    CHECK(pk_ipv4_disabled_ignorable(EINVAL, probe_eafnosupport), "IPv4 disabled: ignore");
    CHECK(!pk_ipv4_disabled_ignorable(EINVAL, probe_ok), "IPv4 present: error");
    CHECK(!pk_ipv4_disabled_ignorable(ENOPROTOOPT, probe_eafnosupport), "other error: error");
}

static int probes;
static int probe_gone(void) { probes++; return EAFNOSUPPORT; }
static int probe_there(void) { probes++; return 0; }

/* The same rule on its real path (pk_sock_setopt -> set_ipv4_half), with
 * a real EINVAL from the kernel: Linux takes hop limit 0 at the IPv6 level
 * of a dual-stack socket but refuses TTL 0 at the IPv4 level. Only the
 * probe is a stand-in (IPv4 cannot be disabled per process on Linux). */
static void test_ipv4_half_real_path(void)
{
    const pk_option *ttl = pk_option_find("ttl");
    pk_sock s;
    int err, v = -1;
    memset(&s, 0, sizeof s);
    s.fd = PK_NO_SOCKET;
    if (!ttl || pk_sock_open(&s, AF_INET6, SOCK_DGRAM, 0)) {
        CHECK(0, "a dual-stack socket for the IPv4-half test");
        return;
    }
    CHECK(pk_sys_setint(s.fd, IPPROTO_IP, IP_TTL, 0) == EINVAL,
          "precondition: the kernel refuses TTL 0 at the IPv4 level");
    probes = 0;
    pk_sockopt_set_probe(probe_gone);
    err = pk_sock_setopt(&s, ttl, 0);
    CHECK(err == 0 && probes == 1, "IPv4 disabled: the EINVAL is ignored (err %d, %d probes)",
          err, probes);
    CHECK(pk_sys_getint(s.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v) == 0 && v == 0,
          "the IPv6 half was set (%d)", v);
    probes = 0;
    pk_sockopt_set_probe(probe_there);
    err = pk_sock_setopt(&s, ttl, 0);
    CHECK(err == EINVAL && probes == 1, "IPv4 there: EINVAL returned (err %d, %d probes)",
          err, probes);
    probes = 0;
    CHECK(pk_sock_setopt(&s, ttl, 64) == 0 && probes == 0, "an IPv4 half that works: no probe");
    CHECK(pk_sys_setint(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0
          && pk_sock_setopt(&s, ttl, 0) == 0 && probes == 0,
          "v6only: no IPv4 half, no probe");
    pk_sockopt_set_probe(NULL);
    pk_sock_close(&s);
}

#include "offload_tests.h"

int main(void)
{
    test_format();
    test_parse();
    test_decode();
    test_decode_origdst();
    test_errq();
    test_encode();
    test_reply_rules();
    test_reply_without_lookup();
    test_iface_pick();
    test_iface_system();
    test_ipv4_disabled_rule();
    test_ipv4_half_real_path();
    test_platforms();
    test_gro_split();
    test_gso_runs();
    test_offload_fallback();
    printf("C unit tests: %d passed, %d failed\n", pk_passed, pk_failed);
    return pk_failed != 0;
}
