/* Unit tests of the plain-C layer, with no Lua: the address formatter
 * against inet_ntop, the parser, control-message decode and encode (exact
 * bytes), the reply-source rules and the IPv4-disabled rule. Prints one
 * line per failure and a closing count; exits non-zero on any failure. */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "pk_sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) passed++; \
    else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
           printf(__VA_ARGS__); printf("\n"); } } while (0)

/* Our IPv6 text must equal inet_ntop's, byte for byte. */
static void check_ip6(const unsigned char a[16])
{
    char ours[PK_ADDRSTRLEN], libc[INET6_ADDRSTRLEN];
    size_t n = pk_format_ip6(a, ours);
    inet_ntop(AF_INET6, a, libc, sizeof libc);
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

/* Sets a request for the reply rules. */
static void request(pk_request *r, int family, const char *dst,
                    const char *spec, unsigned ifindex)
{
    memset(r, 0, sizeof *r);
    r->family = family;
    r->has_dst = 1;
    inet_pton(family, dst, r->dst);
    if (spec) { r->has_spec_dst = 1; inet_pton(AF_INET, spec, r->spec_dst); }
    r->ifindex = ifindex;
}

/* DESIGN.md's reply rules. */
static void test_reply_rules(void)
{
    pk_request r;
    pk_sendsrc s;
    unsigned char want[16];

    request(&r, AF_INET, "192.0.2.1", "192.0.2.1", 3);
    pk_reply_source(&r, NULL, NULL, &s);
    inet_pton(AF_INET, "192.0.2.1", want);
    CHECK(s.has == PK_SRC_ADDR && memcmp(s.addr, want, 4) == 0,
          "unicast: source only, routed normally");

    request(&r, AF_INET, "198.51.100.255", "198.51.100.1", 5);
    pk_reply_source(&r, NULL, NULL, &s);
    inet_pton(AF_INET, "198.51.100.1", want);
    CHECK(s.has == (PK_SRC_ADDR | PK_SRC_IFINDEX) && s.ifindex == 5
          && memcmp(s.addr, want, 4) == 0, "subnet broadcast: interface address + ifindex");

    request(&r, AF_INET, "255.255.255.255", NULL, 5);
    pk_reply_source(&r, NULL, NULL, &s);
    CHECK(s.has == PK_SRC_IFINDEX && s.ifindex == 5, "limited broadcast without spec_dst");

    request(&r, AF_INET, "224.0.0.251", "198.51.100.1", 6);
    pk_reply_source(&r, NULL, NULL, &s);
    CHECK(s.has == (PK_SRC_ADDR | PK_SRC_IFINDEX) && memcmp(s.addr, want, 4) == 0,
          "v4 multicast: never from the group");

    request(&r, AF_INET6, "2001:db8::1", NULL, 2);
    pk_reply_source(&r, NULL, NULL, &s);
    CHECK(s.has == PK_SRC_ADDR && s.family == AF_INET6, "v6 unicast");

    request(&r, AF_INET6, "ff02::fb", NULL, 2);
    pk_reply_source(&r, NULL, NULL, &s);
    memset(want, 0, 16);
    CHECK(s.has == (PK_SRC_ADDR | PK_SRC_IFINDEX) && memcmp(s.addr, want, 16) == 0
          && s.ifindex == 2, "v6 multicast: :: and ifindex");

    request(&r, AF_INET6, "2001:db8::1", NULL, 2);
    r.peer_family = AF_INET6;
    inet_pton(AF_INET6, "fe80::1", r.peer);
    pk_reply_source(&r, NULL, NULL, &s);
    CHECK(s.has == (PK_SRC_ADDR | PK_SRC_IFINDEX) && s.ifindex == 2, "link-local peer");

    r.has_dst = 0;
    pk_reply_source(&r, NULL, NULL, &s);
    CHECK(s.has == 0, "no packet info: no control message");
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

int main(void)
{
    test_format();
    test_parse();
    test_decode();
    test_encode();
    test_reply_rules();
    test_ipv4_disabled_rule();
    printf("C unit tests: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
