/* Every platform's control messages, checked on this machine. The bytes a
 * platform's kernel writes are built here from that platform's own
 * numbers (the width of cmsg_len, the alignment, each message's level,
 * type and payload, written out below, not read from the module) and fed
 * to the module's decoder with that platform's layout (pk_layout.h); the
 * encoder's output is compared byte for byte with what that platform's
 * kernel reads. The decoder and encoder are the ones every build runs;
 * only the layout differs. A build on the platform itself checks the
 * layout against its headers (pk_layout_native.h). */
#include "pk_addr.h"
#include "pk_cmsg.h"
#include "pk_sock.h"
#include "check.h"

#include <string.h>
#include <unistd.h>

static const pk_layout linux64 = PK_LAYOUT_INIT("linux64", PK_LAYOUT_LINUX64);
static const pk_layout linux32 = PK_LAYOUT_INIT("linux32", PK_LAYOUT_LINUX32);
static const pk_layout darwin = PK_LAYOUT_INIT("darwin", PK_LAYOUT_DARWIN);
static const pk_layout freebsd = PK_LAYOUT_INIT("freebsd", PK_LAYOUT_FREEBSD);
static const pk_layout netbsd = PK_LAYOUT_INIT("netbsd", PK_LAYOUT_NETBSD);
static const pk_layout openbsd = PK_LAYOUT_INIT("openbsd", PK_LAYOUT_OPENBSD);
static const pk_layout win64 = PK_LAYOUT_INIT("win64", PK_LAYOUT_WIN64);

/* Every list names every field (each at most once: a repeated one is an
 * -Woverride-init error), so none is left 0 by accident. */
#define ONE1_(f) +1
#define ONE2_(f, v) +1
enum { N_FIELDS = 0 PK_LAYOUT_FIELDS(ONE1_) };
typedef char lists_complete[
    (0 PK_LAYOUT_LINUX64(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_LINUX32(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_DARWIN(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_FREEBSD(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_NETBSD(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_OPENBSD(ONE2_, ONE2_)) == N_FIELDS
    && (0 PK_LAYOUT_WIN64(ONE2_, ONE2_)) == N_FIELDS ? 1 : -1];

/* A platform's struct cmsghdr: bytes of cmsg_len and the alignment. */
typedef struct shape { int lensz, align; } shape;

static const shape LP64 = {8, 8};     /* Linux 64-bit, Windows x64 */
static const shape ILP32 = {4, 4};    /* Linux i386 */
static const shape DARWIN = {4, 4};   /* socklen_t, __DARWIN_ALIGN32 */
static const shape BSD64 = {4, 8};    /* socklen_t, _ALIGN(long) */

enum { IP = 0, IPV6 = 41, BSD_SOCKET = 0xffff, LINUX_SOCKET = 1 };

static size_t up(size_t n, int align)
{
    return (n + (size_t)align - 1) / (size_t)align * (size_t)align;
}

/* Appends one message as that platform's kernel writes it: cmsg_len,
 * level and type, the payload at the header rounded up to the alignment,
 * and padding to the alignment. */
static void put(unsigned char *b, size_t *off, shape sh, int level, int type,
                const void *data, size_t n)
{
    size_t hdr = up((size_t)sh.lensz + 8, sh.align), clen = hdr + n;
    uint64_t len64 = clen;
    uint32_t len32 = (uint32_t)clen;
    memset(b + *off, 0, up(clen, sh.align));
    memcpy(b + *off, sh.lensz == 8 ? (void *)&len64 : (void *)&len32, (size_t)sh.lensz);
    memcpy(b + *off + sh.lensz, &level, 4);
    memcpy(b + *off + sh.lensz + 4, &type, 4);
    memcpy(b + *off + hdr, data, n);
    *off += up(clen, sh.align);
}

/* A 32-bit int payload. */
static void put_int(unsigned char *b, size_t *off, shape sh, int level,
                    int type, int v)
{
    put(b, off, sh, level, type, &v, 4);
}

/* in_pktinfo as Linux and macOS lay it out: ifindex, spec_dst, addr. */
static void pktinfo_lm(unsigned char p[12], uint32_t ifindex,
                       const char *spec, const char *addr)
{
    memcpy(p, &ifindex, 4);
    inet_pton(AF_INET, spec, p + 4);
    inet_pton(AF_INET, addr, p + 8);
}

/* in_pktinfo as Windows and NetBSD lay it out: addr, ifindex. */
static void pktinfo_wn(unsigned char p[8], const char *addr, uint32_t ifindex)
{
    inet_pton(AF_INET, addr, p);
    memcpy(p + 4, &ifindex, 4);
}

/* in6_pktinfo: address, 32-bit ifindex. */
static void pktinfo6(unsigned char p[20], const char *addr, uint32_t ifindex)
{
    inet_pton(AF_INET6, addr, p);
    memcpy(p + 16, &ifindex, 4);
}

/* A minimal struct sockaddr_dl (IP_RECVIF): len, AF_LINK, index, then
 * type, nlen, alen, slen. */
static void sockaddr_dl(unsigned char p[8], uint16_t index)
{
    memset(p, 0, 8);
    p[0] = 8;
    p[1] = 18;
    memcpy(p + 2, &index, 2);
}

/* A timeval or timespec: sec of sec_size bytes at 0, the fraction of
 * frac_size bytes at frac_off; returns the struct's size. */
static size_t timestruct(unsigned char *p, size_t size, int sec_size,
                         int64_t sec, int frac_off, int frac_size, int64_t frac)
{
    int32_t s32 = (int32_t)sec, f32 = (int32_t)frac;
    memset(p, 0, size);
    memcpy(p, sec_size == 8 ? (void *)&sec : (void *)&s32, (size_t)sec_size);
    memcpy(p + frac_off, frac_size == 8 ? (void *)&frac : (void *)&f32,
           (size_t)frac_size);
    return size;
}

/* The decoded destination must be IPv4 addr on ifindex, with spec_dst
 * (NULL: none). */
static void expect_dst4(const char *what, const pk_recvinfo *ri,
                        const char *addr, uint32_t ifindex, const char *spec)
{
    unsigned char a[4], s[4];
    inet_pton(AF_INET, addr, a);
    CHECK((ri->has & PK_HAS_DST) && ri->dst_family == AF_INET
          && memcmp(ri->dst, a, 4) == 0 && ri->ifindex == ifindex,
          "%s: destination %s on %u (has %#x, ifindex %u)", what, addr,
          (unsigned)ifindex, ri->has, (unsigned)ri->ifindex);
    if (spec) {
        inet_pton(AF_INET, spec, s);
        CHECK((ri->has & PK_HAS_SPEC_DST) && memcmp(ri->spec_dst, s, 4) == 0,
              "%s: spec_dst %s", what, spec);
    } else {
        CHECK(!(ri->has & PK_HAS_SPEC_DST), "%s: no spec_dst", what);
    }
}

/* The decoded destination must be IPv6 addr on ifindex. */
static void expect_dst6(const char *what, const pk_recvinfo *ri,
                        const char *addr, uint32_t ifindex)
{
    unsigned char a[16];
    inet_pton(AF_INET6, addr, a);
    CHECK((ri->has & PK_HAS_DST) && ri->dst_family == AF_INET6
          && memcmp(ri->dst, a, 16) == 0 && ri->ifindex == ifindex
          && !(ri->has & PK_HAS_SPEC_DST),
          "%s: destination %s on %u (has %#x)", what, addr, (unsigned)ifindex,
          ri->has);
}

/* The encoder's bytes must be exactly want. */
static void expect_bytes(const char *what, const unsigned char *got, long n,
                         const unsigned char *want, size_t wn)
{
    long i;
    int same = n == (long)wn && memcmp(got, want, wn) == 0;
    CHECK(same, "%s: %ld bytes, want %ld", what, n, (long)wn);
    if (!same && n > 0) {
        printf("  got: ");
        for (i = 0; i < n; i++) printf("%02x", got[i]);
        printf("\n  want:");
        for (i = 0; i < (long)wn; i++) printf("%02x", want[i]);
        printf("\n");
    }
}

/* A source for the encoder. */
static pk_sendsrc source(unsigned has, int family, const char *addr,
                         uint32_t ifindex, int ttl, int tos)
{
    pk_sendsrc s;
    memset(&s, 0, sizeof s);
    s.has = has;
    s.family = family;
    if (addr) inet_pton(family, addr, s.addr);
    s.ifindex = ifindex;
    s.ttl = ttl;
    s.tos = tos;
    return s;
}

/* A control buffer aligned for any layout. */
typedef union cbuf {
    uint64_t align;
    unsigned char b[512];
} cbuf;

/* The platforms' message types do not collide within one level. */
static void test_lists_distinct(void)
{
    const pk_layout *all[] = {&linux64, &linux32, &darwin, &freebsd, &netbsd,
                              &openbsd, &win64};
    size_t i, j, k;
    for (i = 0; i < sizeof all / sizeof *all; i++) {
        const pk_layout *L = all[i];
        int ip[] = {L->ip_pktinfo, L->ip_recvdstaddr, L->ip_recvif, L->ip_ttl,
                    L->ip_recvttl, L->ip_tos, L->ip_recvtos};
        int dup = 0;
        for (j = 0; j < sizeof ip / sizeof *ip; j++)
            for (k = j + 1; k < sizeof ip / sizeof *ip; k++)
                if (ip[j] != PK_NONE && ip[j] == ip[k]) dup = 1;
        CHECK(!dup, "%s: two IPPROTO_IP receive messages share a type", L->name);
        CHECK(L->ipv6_pktinfo != L->ipv6_hoplimit && L->ipv6_hoplimit != L->ipv6_tclass
              && L->ipv6_pktinfo != L->ipv6_tclass, "%s: IPv6 types distinct", L->name);
    }
}

/* The layout this build runs is the list pk_layout.h gives for it. */
static void test_native_is_listed(void)
{
    const pk_layout *n = pk_cmsg_native(), *want = NULL;
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) && defined(__LP64__)
    want = &linux64;
#elif defined(__linux__) && defined(__i386__)
    want = &linux32;
#endif
    if (!want) return;
#define SAME_(f) CHECK(n->f == want->f, "native %s %d, %s says %d", #f, n->f, want->name, want->f);
    PK_LAYOUT_FIELDS(SAME_)
#undef SAME_
}

/* macOS: in_pktinfo as IP_RECVPKTINFO (26) with a zeroed spec_dst, IP_RECVTTL
 * (24) and IP_RECVTOS (27) as one byte, SCM_TIMESTAMP (2) at SOL_SOCKET
 * 0xffff with a 32-bit tv_usec; a Linux IP_PKTINFO (8, IP_RETOPTS here) is
 * not one. */
static void test_darwin_decode(void)
{
    cbuf c;
    unsigned char p[32];
    unsigned char ttl = 57, tos = 0xb9;
    size_t n = 0;
    pk_recvinfo ri;

    pktinfo_lm(p, 7, "203.0.113.9", "203.0.113.1");
    put(c.b, &n, DARWIN, IP, 8, p, 12);                 /* not pktinfo on macOS */
    pktinfo_lm(p, 5, "198.51.100.1", "192.0.2.7");      /* spec_dst ignored */
    put(c.b, &n, DARWIN, IP, 26, p, 12);
    put(c.b, &n, DARWIN, IP, 24, &ttl, 1);
    put(c.b, &n, DARWIN, IP, 27, &tos, 1);
    put(c.b, &n, DARWIN, BSD_SOCKET, 2, p,
        timestruct(p, 16, 8, 1700000000, 8, 4, 123456));
    CHECK(n == 24 + 24 + 16 + 16 + 28, "darwin bytes %zu", n);
    pk_cmsg_decode_as(&darwin, &c, n, &ri);
    expect_dst4("darwin IP_RECVPKTINFO", &ri, "192.0.2.7", 5, NULL);
    CHECK((ri.has & PK_HAS_TTL) && ri.ttl == 57, "darwin one-byte TTL %d", ri.ttl);
    CHECK((ri.has & PK_HAS_TOS) && ri.tos == 0xb9, "darwin one-byte TOS %d", ri.tos);
    CHECK((ri.has & PK_HAS_TIME) && ri.sec == 1700000000 && ri.nsec == 123456000,
          "darwin SCM_TIMESTAMP %lld.%09ld", (long long)ri.sec, ri.nsec);
    CHECK(!(ri.has & PK_HAS_DROPPED), "darwin: no drop counter");

    n = 0;                     /* IP_RECVIF (20) first, then IP_RECVDSTADDR (7) */
    sockaddr_dl(p, 4);
    put(c.b, &n, DARWIN, IP, 20, p, 8);
    inet_pton(AF_INET, "192.0.2.8", p);
    put(c.b, &n, DARWIN, IP, 7, p, 4);
    pk_cmsg_decode_as(&darwin, &c, n, &ri);
    expect_dst4("darwin IP_RECVDSTADDR + IP_RECVIF", &ri, "192.0.2.8", 4, NULL);
}

/* macOS IPv6 (RFC 3542 numbers): IPV6_PKTINFO 46, IPV6_HOPLIMIT 47,
 * IPV6_TCLASS 36; on a dual-stack socket the IPv4 message wins over a
 * v4-mapped IPV6_PKTINFO in either order. */
static void test_darwin_decode6(void)
{
    cbuf c;
    unsigned char p[20];
    size_t n = 0;
    pk_recvinfo ri;

    pktinfo6(p, "2001:db8::5", 3);
    put(c.b, &n, DARWIN, IPV6, 46, p, 20);
    put_int(c.b, &n, DARWIN, IPV6, 47, 64);
    put_int(c.b, &n, DARWIN, IPV6, 36, 0x2e);
    pk_cmsg_decode_as(&darwin, &c, n, &ri);
    expect_dst6("darwin IPV6_PKTINFO", &ri, "2001:db8::5", 3);
    CHECK((ri.has & PK_HAS_TTL) && ri.ttl == 64, "darwin hop limit %d", ri.ttl);
    CHECK((ri.has & PK_HAS_TOS) && ri.tos == 0x2e, "darwin traffic class %d", ri.tos);

    n = 0;
    pktinfo6(p, "::ffff:192.0.2.9", 4);
    put(c.b, &n, DARWIN, IPV6, 46, p, 20);
    pktinfo_lm(p, 6, "0.0.0.0", "192.0.2.9");
    put(c.b, &n, DARWIN, IP, 26, p, 12);
    pk_cmsg_decode_as(&darwin, &c, n, &ri);
    expect_dst4("darwin dual-stack, IPv4 last", &ri, "192.0.2.9", 6, NULL);
    n = 0;
    put(c.b, &n, DARWIN, IP, 26, p, 12);
    pktinfo6(p, "::ffff:192.0.2.9", 4);
    put(c.b, &n, DARWIN, IPV6, 46, p, 20);
    pk_cmsg_decode_as(&darwin, &c, n, &ri);
    expect_dst4("darwin dual-stack, IPv4 first", &ri, "192.0.2.9", 6, NULL);
}

/* macOS sends: in_pktinfo with the source in ipi_spec_dst (XNU's
 * udp_check_pktinfo), no per-datagram IPv4 TTL or TOS; IPv6 as RFC 3542. */
static void test_darwin_encode(void)
{
    static const unsigned char v4[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 26, 0, 0, 0,   /* len, IPPROTO_IP, IP_PKTINFO */
        7, 0, 0, 0, 192, 0, 2, 1, 0, 0, 0, 0    /* ifindex, spec_dst, addr */
    };
    static const unsigned char v6[] = {
        32, 0, 0, 0, 41, 0, 0, 0, 46, 0, 0, 0,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        3, 0, 0, 0,
        16, 0, 0, 0, 41, 0, 0, 0, 47, 0, 0, 0, 9, 0, 0, 0,      /* hop limit */
        16, 0, 0, 0, 41, 0, 0, 0, 36, 0, 0, 0, 0xb8, 0, 0, 0    /* class */
    };
    cbuf c;
    pk_sendsrc s = source(PK_SRC_ADDR | PK_SRC_IFINDEX, AF_INET, "192.0.2.1", 7, 0, 0);
    pk_recvinfo ri;
    long n = pk_cmsg_encode_as(&darwin, &c, sizeof c, AF_INET, &s);
    expect_bytes("darwin IP_PKTINFO", c.b, n, v4, sizeof v4);
    s = source(PK_SRC_TTL, AF_INET, NULL, 0, 9, 0);
    CHECK(pk_cmsg_encode_as(&darwin, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "darwin: no per-datagram IPv4 TTL");
    s = source(PK_SRC_TOS, AF_INET, NULL, 0, 0, 0xb8);
    CHECK(pk_cmsg_encode_as(&darwin, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "darwin: no per-datagram IPv4 TOS");
    s = source(PK_SRC_ADDR | PK_SRC_IFINDEX | PK_SRC_TTL | PK_SRC_TOS, AF_INET6,
               "2001:db8::1", 3, 9, 0xb8);
    n = pk_cmsg_encode_as(&darwin, &c, sizeof c, AF_INET6, &s);
    expect_bytes("darwin IPv6", c.b, n, v6, sizeof v6);
    pk_cmsg_decode_as(&darwin, &c, (size_t)n, &ri);
    expect_dst6("darwin IPv6 round trip", &ri, "2001:db8::1", 3);
}

/* FreeBSD: IP_RECVDSTADDR (7) and IP_RECVIF (20) in either order, data at
 * 16 (a 12-byte header aligned to 8), IP_RECVTTL 65 and IP_RECVTOS 68 one
 * byte, SCM_TIMESTAMP (2) with a 64-bit tv_usec. */
static void test_freebsd_decode(void)
{
    cbuf c;
    unsigned char p[32];
    unsigned char ttl = 3, tos = 0x01;
    size_t n = 0;
    pk_recvinfo ri;

    inet_pton(AF_INET, "198.51.100.7", p);
    put(c.b, &n, BSD64, IP, 7, p, 4);
    sockaddr_dl(p, 2);
    put(c.b, &n, BSD64, IP, 20, p, 8);
    put(c.b, &n, BSD64, IP, 65, &ttl, 1);
    put(c.b, &n, BSD64, IP, 68, &tos, 1);
    put(c.b, &n, BSD64, BSD_SOCKET, 2, p,
        timestruct(p, 16, 8, 1700000001, 8, 8, 999999));
    CHECK(n == 24 + 24 + 24 + 24 + 32, "freebsd bytes %zu", n);
    pk_cmsg_decode_as(&freebsd, &c, n, &ri);
    expect_dst4("freebsd IP_RECVDSTADDR + IP_RECVIF", &ri, "198.51.100.7", 2, NULL);
    CHECK((ri.has & PK_HAS_TTL) && ri.ttl == 3, "freebsd TTL %d", ri.ttl);
    CHECK((ri.has & PK_HAS_TOS) && ri.tos == 1, "freebsd TOS %d", ri.tos);
    CHECK((ri.has & PK_HAS_TIME) && ri.sec == 1700000001 && ri.nsec == 999999000,
          "freebsd SCM_TIMESTAMP %lld.%09ld", (long long)ri.sec, ri.nsec);

    n = 0;                      /* IP_RECVIF first */
    sockaddr_dl(p, 9);
    put(c.b, &n, BSD64, IP, 20, p, 8);
    inet_pton(AF_INET, "198.51.100.8", p);
    put(c.b, &n, BSD64, IP, 7, p, 4);
    pk_cmsg_decode_as(&freebsd, &c, n, &ri);
    expect_dst4("freebsd IP_RECVIF first", &ri, "198.51.100.8", 9, NULL);

    n = 0;                      /* dual-stack: v4-mapped IPV6_PKTINFO's index */
    pktinfo6(p, "::ffff:198.51.100.8", 6);
    put(c.b, &n, BSD64, IPV6, 46, p, 20);
    inet_pton(AF_INET, "198.51.100.8", p);
    put(c.b, &n, BSD64, IP, 7, p, 4);
    pk_cmsg_decode_as(&freebsd, &c, n, &ri);
    expect_dst4("freebsd IP_RECVDSTADDR after a mapped IPV6_PKTINFO", &ri,
                "198.51.100.8", 6, NULL);

    n = 0;
    pktinfo6(p, "fe80::1", 2);
    put(c.b, &n, BSD64, IPV6, 46, p, 20);
    put_int(c.b, &n, BSD64, IPV6, 47, 255);
    put_int(c.b, &n, BSD64, IPV6, 61, 0xb8);
    CHECK(n == 40 + 24 + 24, "freebsd IPv6 bytes %zu", n);
    pk_cmsg_decode_as(&freebsd, &c, n, &ri);
    expect_dst6("freebsd IPV6_PKTINFO", &ri, "fe80::1", 2);
    CHECK(ri.ttl == 255 && ri.tos == 0xb8, "freebsd hop limit %d class %d", ri.ttl, ri.tos);
}

/* FreeBSD sends: IP_SENDSRCADDR (7) with a struct in_addr, no interface;
 * IP_TOS as one byte; no per-datagram TTL. */
static void test_freebsd_encode(void)
{
    static const unsigned char src[] = {
        20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,   /* header, padding */
        192, 0, 2, 1, 0, 0, 0, 0
    };
    static const unsigned char tos[] = {
        17, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
        0xb8, 0, 0, 0, 0, 0, 0, 0
    };
    static const unsigned char v6[] = {
        36, 0, 0, 0, 41, 0, 0, 0, 46, 0, 0, 0, 0, 0, 0, 0,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
        5, 0, 0, 0, 0, 0, 0, 0
    };
    cbuf c;
    pk_sendsrc s = source(PK_SRC_ADDR, AF_INET, "192.0.2.1", 0, 0, 0);
    long n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s);
    expect_bytes("freebsd IP_SENDSRCADDR", c.b, n, src, sizeof src);
    s.has |= PK_SRC_IFINDEX;
    s.ifindex = 4;
    n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s);
    expect_bytes("freebsd address with interface: the address", c.b, n, src, sizeof src);
    s = source(PK_SRC_IFINDEX, AF_INET, NULL, 4, 0, 0);
    CHECK(pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "freebsd: an IPv4 interface alone cannot be sent");
    s = source(PK_SRC_TTL, AF_INET, NULL, 0, 9, 0);
    CHECK(pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "freebsd: no per-datagram IPv4 TTL");
    s = source(PK_SRC_TOS, AF_INET, NULL, 0, 0, 0x1b8);
    n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s);
    expect_bytes("freebsd one-byte IP_TOS", c.b, n, tos, sizeof tos);
    s = source(PK_SRC_ADDR | PK_SRC_IFINDEX, AF_INET6, "2001:db8::2", 5, 0, 0);
    n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET6, &s);
    expect_bytes("freebsd IPV6_PKTINFO", c.b, n, v6, sizeof v6);
}

/* FreeBSD refuses IP_SENDSRCADDR on a socket bound to an address: the
 * message is dropped when it names that address (the socket sends from
 * it anyway) and kept otherwise, for the kernel to refuse. */
static void test_freebsd_drop_srcaddr(void)
{
    cbuf c, tos_only;
    unsigned char bound[4], other[4];
    pk_sendsrc s = source(PK_SRC_ADDR | PK_SRC_TOS, AF_INET, "192.0.2.1", 0, 0, 0x20);
    long n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &s);
    long tn;
    size_t left;
    inet_pton(AF_INET, "192.0.2.1", bound);
    inet_pton(AF_INET, "192.0.2.2", other);
    s.has = PK_SRC_TOS;
    tn = pk_cmsg_encode_as(&freebsd, &tos_only, sizeof tos_only, AF_INET, &s);
    CHECK(n == 48 && tn == 24, "freebsd source + TOS %ld, TOS %ld", n, tn);
    left = pk_cmsg_drop_srcaddr(&freebsd, &c, (size_t)n, other);
    CHECK(left == (size_t)n, "another address stays (%zu)", left);
    left = pk_cmsg_drop_srcaddr(&freebsd, &c, (size_t)n, bound);
    expect_bytes("the bound address goes, the TOS stays", c.b, (long)left,
                 tos_only.b, (size_t)tn);
    left = pk_cmsg_drop_srcaddr(&linux64, &c, (size_t)tn, bound);
    CHECK(left == (size_t)tn, "no IP_SENDSRCADDR on Linux: nothing to drop");
}

/* The same with real sockets on this machine: pk_sock_fit_source reads the
 * bound address from the kernel (FreeBSD's bytes, Linux's getsockname). */
static void test_fit_source_sockets(void)
{
    static const struct { int family; const char *bind; const char *src; int dropped; } cases[] = {
        {AF_INET, "127.0.0.1", "127.0.0.1", 1},
        {AF_INET, "127.0.0.1", "127.0.0.2", 0},
        {AF_INET, "0.0.0.0", "127.0.0.1", 0},
        {AF_INET6, "::ffff:127.0.0.1", "127.0.0.1", 1},
        {AF_INET6, "::", "127.0.0.1", 0},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        pk_sock s;
        pk_sockaddr a;
        cbuf c;
        pk_sendsrc src = source(PK_SRC_ADDR, AF_INET, cases[i].src, 0, 0, 0);
        long n = pk_cmsg_encode_as(&freebsd, &c, sizeof c, AF_INET, &src);
        size_t left;
        memset(&s, 0, sizeof s);
        memset(&a, 0, sizeof a);
        a.sa.sa_family = (sa_family_t)cases[i].family;
        if (cases[i].family == AF_INET) inet_pton(AF_INET, cases[i].bind, &a.v4.sin_addr);
        else inet_pton(AF_INET6, cases[i].bind, &a.v6.sin6_addr);
        if (pk_sock_open(&s, cases[i].family, SOCK_DGRAM, 0) || pk_sock_bind(&s, &a)) {
            CHECK(0, "socket bound to %s", cases[i].bind);
            pk_sock_close(&s);
            continue;
        }
        left = pk_sock_fit_source(&s, &freebsd, &c, (size_t)n);
        CHECK(left == (cases[i].dropped ? 0 : (size_t)n),
              "bound to %s, source %s: %zu of %ld bytes left", cases[i].bind,
              cases[i].src, left, n);
        pk_sock_close(&s);
    }
}

/* NetBSD: in_pktinfo {ipi_addr, ipi_ifindex} as IP_PKTINFO (25), data at
 * 16; IP_RECVTTL 23; SCM_TIMESTAMP 8 with a 32-bit tv_usec. Sends the
 * source in ipi_addr; no per-datagram TTL or TOS. */
static void test_netbsd(void)
{
    static const unsigned char v4[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 0, 0, 0, 0,
        192, 0, 2, 1, 7, 0, 0, 0                 /* addr, ifindex */
    };
    cbuf c;
    unsigned char p[16], ttl = 200;
    size_t n = 0;
    long len;
    pk_recvinfo ri;
    pk_sendsrc s;

    pktinfo_wn(p, "192.0.2.77", 5);
    put(c.b, &n, BSD64, IP, 25, p, 8);
    put(c.b, &n, BSD64, IP, 23, &ttl, 1);
    put(c.b, &n, BSD64, BSD_SOCKET, 8, p, timestruct(p, 16, 8, 5, 8, 4, 1));
    pk_cmsg_decode_as(&netbsd, &c, n, &ri);
    expect_dst4("netbsd IP_PKTINFO", &ri, "192.0.2.77", 5, NULL);
    CHECK(ri.ttl == 200 && ri.sec == 5 && ri.nsec == 1000, "netbsd TTL %d, time %lld.%ld",
          ri.ttl, (long long)ri.sec, ri.nsec);
    n = 0;                      /* macOS's and FreeBSD's SCM_TIMESTAMP (2) is not it */
    put(c.b, &n, BSD64, BSD_SOCKET, 2, p, timestruct(p, 16, 8, 5, 8, 4, 1));
    pk_cmsg_decode_as(&netbsd, &c, n, &ri);
    CHECK(!(ri.has & PK_HAS_TIME), "netbsd: type 2 is no timestamp");

    s = source(PK_SRC_ADDR | PK_SRC_IFINDEX, AF_INET, "192.0.2.1", 7, 0, 0);
    len = pk_cmsg_encode_as(&netbsd, &c, sizeof c, AF_INET, &s);
    expect_bytes("netbsd IP_PKTINFO", c.b, len, v4, sizeof v4);
    pk_cmsg_decode_as(&netbsd, &c, (size_t)len, &ri);
    expect_dst4("netbsd round trip", &ri, "192.0.2.1", 7, NULL);
    s = source(PK_SRC_TOS, AF_INET, NULL, 0, 0, 4);
    CHECK(pk_cmsg_encode_as(&netbsd, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "netbsd: no per-datagram IPv4 TOS");
}

/* OpenBSD: IP_RECVDSTADDR (7) with IP_RECVIF (30; FreeBSD's 20 is not it),
 * IP_RECVTTL 31, SCM_TIMESTAMP 4; sends IP_SENDSRCADDR only. */
static void test_openbsd(void)
{
    static const unsigned char src[] = {
        20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,
        203, 0, 113, 4, 0, 0, 0, 0
    };
    cbuf c;
    unsigned char p[16], ttl = 64;
    size_t n = 0;
    long len;
    pk_recvinfo ri;
    pk_sendsrc s;

    inet_pton(AF_INET, "203.0.113.4", p);
    put(c.b, &n, BSD64, IP, 7, p, 4);
    sockaddr_dl(p, 3);
    put(c.b, &n, BSD64, IP, 20, p, 8);      /* not IP_RECVIF on OpenBSD */
    put(c.b, &n, BSD64, IP, 31, &ttl, 1);
    put(c.b, &n, BSD64, BSD_SOCKET, 4, p, timestruct(p, 16, 8, 7, 8, 8, 2));
    pk_cmsg_decode_as(&openbsd, &c, n, &ri);
    expect_dst4("openbsd IP_RECVDSTADDR, no IP_RECVIF", &ri, "203.0.113.4", 0, NULL);
    CHECK(ri.ttl == 64 && ri.sec == 7 && ri.nsec == 2000, "openbsd TTL, time");
    sockaddr_dl(p, 3);
    put(c.b, &n, BSD64, IP, 30, p, 8);
    pk_cmsg_decode_as(&openbsd, &c, n, &ri);
    expect_dst4("openbsd with IP_RECVIF 30", &ri, "203.0.113.4", 3, NULL);

    s = source(PK_SRC_ADDR, AF_INET, "203.0.113.4", 0, 0, 0);
    len = pk_cmsg_encode_as(&openbsd, &c, sizeof c, AF_INET, &s);
    expect_bytes("openbsd IP_SENDSRCADDR", c.b, len, src, sizeof src);
    s = source(PK_SRC_TOS, AF_INET, NULL, 0, 0, 4);
    CHECK(pk_cmsg_encode_as(&openbsd, &c, sizeof c, AF_INET, &s) == PK_CMSG_UNSUPPORTED,
          "openbsd: no per-datagram IPv4 TOS");
}

/* Windows x64: WSACMSGHDR with a SIZE_T length; IN_PKTINFO {addr,
 * ifindex} (19); the TTL as IP_HOPLIMIT (21, IP_RECVTTL) or IP_TTL; sends
 * the source in ipi_addr (spec/windows/test_cmsg_win.c checks the same
 * bytes against Winsock's own macros under Wine). */
static void test_win64(void)
{
    static const unsigned char v4[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 0, 0, 0,
        192, 0, 2, 1, 7, 0, 0, 0
    };
    cbuf c;
    unsigned char p[16];
    size_t n = 0;
    long len;
    pk_recvinfo ri;
    pk_sendsrc s;

    pktinfo_wn(p, "198.51.100.7", 5);
    put(c.b, &n, LP64, IP, 19, p, 8);
    put_int(c.b, &n, LP64, IP, 21, 128);
    put_int(c.b, &n, LP64, IP, 40, 0x03);
    pk_cmsg_decode_as(&win64, &c, n, &ri);
    expect_dst4("win64 IN_PKTINFO", &ri, "198.51.100.7", 5, NULL);
    CHECK(ri.ttl == 128 && ri.tos == 3, "win64 TTL %d TOS %d", ri.ttl, ri.tos);
    s = source(PK_SRC_ADDR | PK_SRC_IFINDEX, AF_INET, "192.0.2.1", 7, 0, 0);
    len = pk_cmsg_encode_as(&win64, &c, sizeof c, AF_INET, &s);
    expect_bytes("win64 IN_PKTINFO", c.b, len, v4, sizeof v4);
}

/* Linux: spec_dst is reported; IP_TTL an int, IP_TOS a byte;
 * SCM_TIMESTAMPNS, and SO_RXQ_OVFL at SOL_SOCKET 1; i386 with a 4-byte
 * cmsg_len and 32-bit time. */
static void test_linux(void)
{
    static const unsigned char v4_32[] = {
        24, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0,    /* CMSG_LEN(12): 12 + 12 */
        7, 0, 0, 0, 192, 0, 2, 1, 0, 0, 0, 0
    };
    cbuf c;
    unsigned char p[16], tos = 0xfe;
    uint32_t drops = 17;
    size_t n = 0;
    long len;
    pk_recvinfo ri;
    pk_sendsrc s;
    const shape *sh[] = {&LP64, &ILP32};
    const pk_layout *L[] = {&linux64, &linux32};
    int i, ts = 8;

    for (i = 0; i < 2; i++, ts = 4) {
        n = 0;
        pktinfo_lm(p, 2, "192.0.2.1", "192.0.2.255");
        put(c.b, &n, *sh[i], IP, 8, p, 12);
        put_int(c.b, &n, *sh[i], IP, 2, 1);
        put(c.b, &n, *sh[i], IP, 1, &tos, 1);
        put(c.b, &n, *sh[i], LINUX_SOCKET, 35, p,
            timestruct(p, (size_t)(2 * ts), ts, 86400, ts, ts, 999999999));
        put(c.b, &n, *sh[i], LINUX_SOCKET, 40, &drops, 4);
        pk_cmsg_decode_as(L[i], &c, n, &ri);
        expect_dst4(L[i]->name, &ri, "192.0.2.255", 2, "192.0.2.1");
        CHECK(ri.ttl == 1 && ri.tos == 0xfe && ri.sec == 86400 && ri.nsec == 999999999
              && (ri.has & PK_HAS_DROPPED) && ri.dropped == 17,
              "%s: TTL, TOS, time, drops", L[i]->name);
    }
    s = source(PK_SRC_ADDR | PK_SRC_IFINDEX, AF_INET, "192.0.2.1", 7, 0, 0);
    len = pk_cmsg_encode_as(&linux32, &c, sizeof c, AF_INET, &s);
    expect_bytes("linux32 IP_PKTINFO", c.b, len, v4_32, sizeof v4_32);
}

/* Malformed input for every layout: a cmsg_len shorter than a header ends
 * the walk; a cmsg_len past the buffer decodes nothing it cannot hold. */
static void test_malformed(void)
{
    const pk_layout *all[] = {&linux64, &linux32, &darwin, &freebsd, &netbsd,
                              &openbsd, &win64};
    size_t i;
    for (i = 0; i < sizeof all / sizeof *all; i++) {
        const pk_layout *L = all[i];
        shape sh;
        cbuf c;
        unsigned char p[20];
        size_t n = 0;
        uint32_t huge = 0xffffffffu;
        pk_recvinfo ri;
        sh.lensz = L->len_size;
        sh.align = L->align;
        pktinfo6(p, "2001:db8::9", 1);
        put(c.b, &n, sh, IPV6, L->ipv6_pktinfo, p, 20);
        memset(c.b, 0, 4);                          /* cmsg_len 0 */
        memset(c.b + 4, 0, (size_t)L->len_size - 4);
        put(c.b, &n, sh, IPV6, L->ipv6_pktinfo, p, 20);
        pk_cmsg_decode_as(L, &c, n, &ri);
        CHECK(ri.has == 0, "%s: cmsg_len 0 ends the walk", L->name);
        n = 0;
        put(c.b, &n, sh, IPV6, L->ipv6_pktinfo, p, 20);
        memcpy(c.b, &huge, 4);
        pk_cmsg_decode_as(L, &c, up((size_t)L->len_size + 8, L->align) + 19, &ri);
        CHECK(ri.has == 0, "%s: a payload cut by the end is skipped", L->name);
        pk_cmsg_decode_as(L, &c, n, &ri);
        expect_dst6(L->name, &ri, "2001:db8::9", 1);
        memset(c.b, 0xff, (size_t)L->len_size);    /* the largest cmsg_len */
        put(c.b, &n, sh, IPV6, L->ipv6_pktinfo, p, 20);
        pk_cmsg_decode_as(L, &c, n, &ri);       /* ends: no step wraps to 0 */
        expect_dst6(L->name, &ri, "2001:db8::9", 1);
    }
}

void test_platforms(void)
{
    test_lists_distinct();
    test_native_is_listed();
    test_darwin_decode();
    test_darwin_decode6();
    test_darwin_encode();
    test_freebsd_decode();
    test_freebsd_encode();
    test_freebsd_drop_srcaddr();
    test_fit_source_sockets();
    test_netbsd();
    test_openbsd();
    test_win64();
    test_linux();
    test_malformed();
}
