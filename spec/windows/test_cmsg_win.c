/* Unit test, built with mingw-w64 and run under Wine (or Windows), of the
 * exact bytes pk_cmsg_encode writes for WSASendMsg: WSACMSGHDR (a SIZE_T
 * length, then level and type as INT), IN_PKTINFO with the source in
 * ipi_addr (Windows has no spec_dst) and IN6_PKTINFO, padded as
 * WSA_CMSG_SPACE says. Wine's WSASendMsg ignores control data, so this is
 * where the Windows source selection is checked. Also: decoding of
 * hand-made WSARecvMsg control data, the reply-source rules
 * (spec/c/reply_cases.h: the cases without spec_dst are Windows'), the
 * adapter list, the IPv4-disabled rule, and the WSAE* -> errname mapping.
 * Prints a closing line "N passed, N failed". */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "pk_iface.h"
#include "pk_sock.h"
#include "../c/reply_cases.h"

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

/* The README's reply rules, case by case (spec/c/reply_cases.h) over a
 * stand-in host: among them the Windows cases, with no spec_dst, where a
 * subnet broadcast is recognised by not being an address of the host and
 * answered from the arrival interface's own address (never from the
 * broadcast address, which was the Windows bug). */
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

/* GetAdaptersAddresses through pk_iface_list: the loopback adapter with
 * 127.0.0.1, under the index if_nametoindex knows its name by, and the
 * lookup the reply rules use over it. */
static void test_iface_list(void)
{
    pk_iflist l;
    unsigned char peer[4] = {127, 0, 0, 9}, a[4];
    uint32_t lo = 0;
    size_t i;
    CHECK(pk_iface_list(&l) == 0, "pk_iface_list");
    for (i = 0; i < l.naddrs; i++)
        if (l.addrs[i].family == AF_INET && l.addrs[i].addr[0] == 127 && l.addrs[i].addr[3] == 1)
            lo = l.addrs[i].ifindex;
    CHECK(lo != 0, "an adapter has 127.0.0.1");
    for (i = 0; i < l.nifs; i++)
        if (l.ifs[i].index == lo)
            CHECK(l.ifs[i].name[0] && if_nametoindex(l.ifs[i].name) == lo,
                  "its name '%s' maps back to index %u", l.ifs[i].name, (unsigned)lo);
    pk_iface_free(&l);
    CHECK(pk_iface_addr(NULL, lo, AF_INET, peer, a) == 0 && a[0] == 127 && a[3] == 1,
          "lookup on the loopback adapter");
    CHECK(pk_iface_addr(NULL, 999999, AF_INET, peer, a) == ENODEV, "vanished interface");
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

/* The seed's WSANOTINITIALISED rule: in this fresh process nothing has
 * started Winsock, so socket() fails with WSANOTINITIALISED; after
 * pk_sys_init (what luaopen_pktinfo_core calls first) it works. Must run
 * before anything else here touches Winsock. */
static void test_winsock_start(void)
{
    SOCKET fd = socket(AF_INET, SOCK_DGRAM, 0);
    int code = fd == INVALID_SOCKET ? WSAGetLastError() : 0;
    if (fd != INVALID_SOCKET) closesocket(fd);
    CHECK(code == WSANOTINITIALISED, "before: socket() fails with WSANOTINITIALISED (%d)", code);
    CHECK(pk_sys_init() == 0, "pk_sys_init");
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd != INVALID_SOCKET, "after pk_sys_init: socket() works (%d)", WSAGetLastError());
    if (fd != INVALID_SOCKET) closesocket(fd);
}

int main(void)
{
    test_winsock_start();
    test_encode_ip4();
    test_encode_ip4_ifindex_only();
    test_encode_ip6();
    test_encode_ip4_ttl_tos();
    test_walk_with_wsa_macros();
    test_encode_refusals();
    test_decode();
    test_reply_rules();
    test_iface_list();
    test_rules_and_names();
    printf("Windows cmsg C tests: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
