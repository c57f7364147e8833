/* Unit test, built with mingw-w64 and run under Wine (or Windows), of the
 * exact bytes pk_cmsg_encode writes for WSASendMsg: WSACMSGHDR (a SIZE_T
 * length, then level and type as INT), IN_PKTINFO with the source in
 * ipi_addr (Windows has no spec_dst) and IN6_PKTINFO, padded as
 * WSA_CMSG_SPACE says. Wine's WSASendMsg ignores control data, so this is
 * where the Windows source selection is checked. Also: decoding of
 * hand-made WSARecvMsg control data, the reply-source rules without
 * spec_dst, the IPv4-disabled rule, and the WSAE* -> errname mapping.
 * Prints a closing line "N passed, N failed". */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "pk_sock.h"

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) passed++; \
    else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
           printf(__VA_ARGS__); printf("\n"); } } while (0)

/* Compares n bytes with the expected ones, printing both on a mismatch. */
static void check_bytes(const char *what, const unsigned char *got, long n,
                        const unsigned char *want, long wn)
{
    long i;
    int same = n == wn && memcmp(got, want, (size_t)wn) == 0;
    CHECK(same, "%s: %ld bytes, want %ld", what, n, wn);
    if (!same) {
        printf("  got: ");
        for (i = 0; i < n; i++) printf("%02x", got[i]);
        printf("\n  want:");
        for (i = 0; i < wn; i++) printf("%02x", want[i]);
        printf("\n");
    }
}

static const pk_sendsrc zero_src;

/* IN_PKTINFO with source 192.0.2.1 and ifindex 7. */
static void test_encode_ip4(void)
{
    static const unsigned char want[] = {
        24, 0, 0, 0, 0, 0, 0, 0,        /* cmsg_len = WSA_CMSG_LEN(8) */
        0, 0, 0, 0,                     /* IPPROTO_IP */
        19, 0, 0, 0,                    /* IP_PKTINFO */
        192, 0, 2, 1,                   /* ipi_addr: the source */
        7, 0, 0, 0                      /* ipi_ifindex */
    };
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    long n;
    src.has = PK_SRC_ADDR | PK_SRC_IFINDEX;
    src.family = AF_INET;
    src.addr[0] = 192; src.addr[2] = 2; src.addr[3] = 1;
    src.ifindex = 7;
    memset(&buf, 0xee, sizeof buf);
    n = pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src);
    check_bytes("IN_PKTINFO addr+ifindex", buf.bytes, n, want, sizeof want);
    CHECK(n == (long)WSA_CMSG_SPACE(sizeof(IN_PKTINFO)), "space %ld", n);
    CHECK(sizeof(IN_PKTINFO) == 8, "IN_PKTINFO is %d bytes", (int)sizeof(IN_PKTINFO));
}

/* Only an interface: the address stays 0.0.0.0 (the stack picks it). */
static void test_encode_ip4_ifindex_only(void)
{
    static const unsigned char want[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 0, 0, 0,
        0, 0, 0, 0,  0x2a, 0x01, 0, 0   /* ifindex 298 */
    };
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    long n;
    src.has = PK_SRC_IFINDEX;
    src.ifindex = 298;
    n = pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src);
    check_bytes("IN_PKTINFO ifindex only", buf.bytes, n, want, sizeof want);
}

/* IN6_PKTINFO with 2001:db8::1 and ifindex 3: 20 bytes of data, padded
 * to 24 (WSA_CMSG_SPACE(20) = 40). */
static void test_encode_ip6(void)
{
    static const unsigned char want[] = {
        36, 0, 0, 0, 0, 0, 0, 0,        /* cmsg_len = WSA_CMSG_LEN(20) */
        41, 0, 0, 0,                    /* IPPROTO_IPV6 */
        19, 0, 0, 0,                    /* IPV6_PKTINFO */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        3, 0, 0, 0,                     /* ipi6_ifindex */
        0, 0, 0, 0                      /* padding */
    };
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    long n;
    src.has = PK_SRC_ADDR | PK_SRC_IFINDEX;
    src.family = AF_INET6;
    src.addr[0] = 0x20; src.addr[1] = 0x01; src.addr[2] = 0x0d; src.addr[3] = 0xb8;
    src.addr[15] = 1;
    src.ifindex = 3;
    memset(&buf, 0xee, sizeof buf);
    n = pk_cmsg_encode(&buf, sizeof buf, AF_INET6, &src);
    check_bytes("IN6_PKTINFO addr+ifindex", buf.bytes, n, want, sizeof want);
    CHECK(n == (long)WSA_CMSG_SPACE(sizeof(IN6_PKTINFO)), "space %ld", n);
}

/* A source, a TTL and a TOS: three messages, each at WSA_CMSG_SPACE. */
static void test_encode_ip4_ttl_tos(void)
{
    static const unsigned char want[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 0, 0, 0,
        198, 51, 100, 9, 0, 0, 0, 0,
        20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,   /* IP_TTL */
        64, 0, 0, 0, 0, 0, 0, 0,
        20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,   /* IP_TOS */
        0xb8, 0, 0, 0, 0, 0, 0, 0
    };
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    long n;
    src.has = PK_SRC_ADDR | PK_SRC_TTL | PK_SRC_TOS;
    src.family = AF_INET;
    src.addr[0] = 198; src.addr[1] = 51; src.addr[2] = 100; src.addr[3] = 9;
    src.ttl = 64;
    src.tos = 0xb8;
    memset(&buf, 0xee, sizeof buf);
    n = pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src);
    check_bytes("IN_PKTINFO + IP_TTL + IP_TOS", buf.bytes, n, want, sizeof want);
}

/* What the encoder wrote walks back with Winsock's own WSA_CMSG_* macros. */
static void test_walk_with_wsa_macros(void)
{
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    WSAMSG m;
    WSACMSGHDR *c;
    IN_PKTINFO pi;
    int count = 0;
    long n;
    src.has = PK_SRC_ADDR | PK_SRC_IFINDEX | PK_SRC_TTL;
    src.family = AF_INET;
    src.addr[0] = 203; src.addr[1] = 0; src.addr[2] = 113; src.addr[3] = 5;
    src.ifindex = 12;
    src.ttl = 9;
    n = pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src);
    memset(&m, 0, sizeof m);
    m.Control.buf = (char *)buf.bytes;
    m.Control.len = (ULONG)n;
    for (c = WSA_CMSG_FIRSTHDR(&m); c; c = WSA_CMSG_NXTHDR(&m, c)) {
        if (count++ == 0) {
            CHECK(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO,
                  "first is IP_PKTINFO (%d/%d)", c->cmsg_level, c->cmsg_type);
            memcpy(&pi, WSA_CMSG_DATA(c), sizeof pi);
            CHECK(pi.ipi_addr.s_addr == htonl(0xcb007105UL), "ipi_addr");
            CHECK(pi.ipi_ifindex == 12, "ipi_ifindex %u", (unsigned)pi.ipi_ifindex);
        } else {
            CHECK(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL,
                  "second is IP_TTL (%d/%d)", c->cmsg_level, c->cmsg_type);
        }
    }
    CHECK(count == 2, "walked %d messages", count);
}

/* A source of the other family, and a buffer too small, are refused. */
static void test_encode_refusals(void)
{
    pk_cmsgbuf buf;
    pk_sendsrc src = zero_src;
    src.has = PK_SRC_ADDR;
    src.family = AF_INET6;
    CHECK(pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src) == -1, "v6 source to v4");
    src.family = AF_INET;
    CHECK(pk_cmsg_encode(&buf, 16, AF_INET, &src) == -1, "too small");
    src.has = 0;
    CHECK(pk_cmsg_encode(&buf, sizeof buf, AF_INET, &src) == 0, "nothing to say");
}

/* Appends one message as WSARecvMsg would lay it out. */
static size_t put(unsigned char *b, size_t off, int level, int type,
                  const void *data, size_t len)
{
    WSACMSGHDR h;
    memset(&h, 0, sizeof h);
    h.cmsg_len = WSA_CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    memset(b + off, 0, WSA_CMSG_SPACE(len));
    memcpy(b + off, &h, sizeof h);
    memcpy(b + off + WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR)), data, len);
    return off + WSA_CMSG_SPACE(len);
}

/* IN_PKTINFO gives addr and ifindex and no spec_dst; on a dual-stack
 * socket the IPv4 message wins over a v4-mapped IN6_PKTINFO, whatever the
 * order; a native IN6_PKTINFO gives an IPv6 destination. */
static void test_decode(void)
{
    pk_cmsgbuf buf;
    pk_recvinfo info;
    IN_PKTINFO pi;
    IN6_PKTINFO pi6;
    size_t off;

    memset(&pi, 0, sizeof pi);
    pi.ipi_addr.s_addr = htonl(0xc6336407UL);   /* 198.51.100.7 */
    pi.ipi_ifindex = 5;
    off = put(buf.bytes, 0, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    pk_cmsg_decode(&buf, off, &info);
    CHECK((info.has & PK_HAS_DST) && info.dst_family == AF_INET
          && memcmp(info.dst, "\xc6\x33\x64\x07", 4) == 0 && info.ifindex == 5,
          "IN_PKTINFO decoded");
    CHECK(!(info.has & PK_HAS_SPEC_DST), "no spec_dst on Windows");

    memset(&pi6, 0, sizeof pi6);
    pi6.ipi6_addr.s6_addr[10] = 0xff;
    pi6.ipi6_addr.s6_addr[11] = 0xff;
    memcpy(pi6.ipi6_addr.s6_addr + 12, "\x7f\x00\x00\x01", 4);
    pi6.ipi6_ifindex = 9;
    off = put(buf.bytes, 0, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    off = put(buf.bytes, off, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    pk_cmsg_decode(&buf, off, &info);
    CHECK(info.dst_family == AF_INET && info.ifindex == 5
          && memcmp(info.dst, "\xc6\x33\x64\x07", 4) == 0,
          "IPv4 message wins after a v4-mapped IPv6 one");

    off = put(buf.bytes, 0, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    pk_cmsg_decode(&buf, off, &info);
    CHECK(info.dst_family == AF_INET && info.ifindex == 9
          && memcmp(info.dst, "\x7f\x00\x00\x01", 4) == 0,
          "v4-mapped IN6_PKTINFO alone is unmapped");

    memset(&pi6, 0, sizeof pi6);
    pi6.ipi6_addr.s6_addr[0] = 0xfe;
    pi6.ipi6_addr.s6_addr[1] = 0x80;
    pi6.ipi6_addr.s6_addr[15] = 1;
    pi6.ipi6_ifindex = 4;
    off = put(buf.bytes, 0, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    pk_cmsg_decode(&buf, off, &info);
    CHECK(info.dst_family == AF_INET6 && info.ifindex == 4
          && info.dst[0] == 0xfe && info.dst[15] == 1, "native IN6_PKTINFO");

    pk_cmsg_decode(&buf, 10, &info);            /* shorter than a header */
    CHECK(info.has == 0, "short control data ignored");
}

/* Without spec_dst: a unicast request is answered from its address with no
 * ifindex; a broadcast one from the interface only (ipi_addr 0.0.0.0, so
 * Windows picks that interface's own address). */
static void test_reply_rules(void)
{
    pk_request req;
    pk_sendsrc src;
    memset(&req, 0, sizeof req);
    req.family = AF_INET;
    req.has_dst = 1;
    memcpy(req.dst, "\xc0\x00\x02\x01", 4);
    req.ifindex = 3;
    pk_reply_source(&req, NULL, NULL, &src);
    CHECK(src.has == PK_SRC_ADDR && memcmp(src.addr, "\xc0\x00\x02\x01", 4) == 0,
          "unicast: source is the address, no ifindex (has %u)", src.has);
    memcpy(req.dst, "\xff\xff\xff\xff", 4);
    pk_reply_source(&req, NULL, NULL, &src);
    CHECK(src.has == PK_SRC_IFINDEX && src.ifindex == 3,
          "broadcast: ifindex only (has %u)", src.has);
}

static int probe_gone(void) { return EAFNOSUPPORT; }
static int probe_there(void) { return 0; }

/* The IP_PKTINFO page's IPv4-disabled rule, and the portable errnames. */
static void test_rules_and_names(void)
{
    char msg[128];
    CHECK(pk_ipv4_disabled_ignorable(EINVAL, probe_gone), "EINVAL, no IPv4: ignored");
    CHECK(!pk_ipv4_disabled_ignorable(EINVAL, probe_there), "EINVAL with IPv4: error");
    CHECK(!pk_ipv4_disabled_ignorable(ENOPROTOOPT, probe_gone), "other errors stay");
    CHECK(strcmp(pk_errname(ENOPROTOOPT), "ENOPROTOOPT") == 0, "ENOPROTOOPT");
    CHECK(strcmp(pk_errname(ENOTSOCK), "ENOTSOCK") == 0, "ENOTSOCK");
    CHECK(strcmp(pk_errname(ETIMEDOUT), "ETIMEDOUT") == 0, "ETIMEDOUT");
    CHECK(strcmp(pk_errname(EAFNOSUPPORT), "EAFNOSUPPORT") == 0, "EAFNOSUPPORT");
    CHECK(strcmp(pk_errname(EAGAIN), "EAGAIN") == 0, "EAGAIN");
    CHECK(strcmp(pk_errname(EHOSTDOWN), "EHOSTDOWN") == 0, "EHOSTDOWN");
    CHECK(pk_errmsg(ENOPROTOOPT, msg, sizeof msg)[0] != '\0', "a message");
    CHECK(IP_PKTINFO == 19 && IPV6_PKTINFO == 19, "option value 19");
}

int main(void)
{
    test_encode_ip4();
    test_encode_ip4_ifindex_only();
    test_encode_ip6();
    test_encode_ip4_ttl_tos();
    test_walk_with_wsa_macros();
    test_encode_refusals();
    test_decode();
    test_reply_rules();
    test_rules_and_names();
    printf("Windows cmsg C tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
