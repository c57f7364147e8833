/* Control messages: decode, encode, and the reply-source rules. */
#include "pk_cmsg.h"
#include "pk_addr.h"

#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <sys/time.h>
#endif

/* Bytes of payload the message at c really has inside [start, end). */
static size_t payload_len(const struct cmsghdr *c, const unsigned char *end)
{
    const unsigned char *data = CMSG_DATA(c);
    size_t claimed, avail;
    if (c->cmsg_len < CMSG_LEN(0) || data > end) return 0;
    claimed = c->cmsg_len - CMSG_LEN(0);
    avail = (size_t)(end - data);
    return claimed < avail ? claimed : avail;
}

/* Reads an int-sized or byte-sized value (IP_TOS arrives as one byte). */
static int read_small_int(const struct cmsghdr *c, size_t len, int *out)
{
    if (len >= sizeof(int)) { memcpy(out, CMSG_DATA(c), sizeof(int)); return 1; }
    if (len >= 1) { *out = *(const unsigned char *)CMSG_DATA(c); return 1; }
    return 0;
}

/* One IPPROTO_IP message. */
static void decode_ip(const struct cmsghdr *c, size_t len, pk_recvinfo *out)
{
    switch (c->cmsg_type) {
#ifdef IP_PKTINFO
    case IP_PKTINFO: {
        struct in_pktinfo pi;
        if (len < sizeof pi) return;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        out->has |= PK_HAS_DST | PK_HAS_DST_V4;
        out->dst_family = AF_INET;
        memcpy(out->dst, &pi.ipi_addr, 4);
#ifndef _WIN32                   /* Windows' IN_PKTINFO has no spec_dst */
        out->has |= PK_HAS_SPEC_DST;
        memcpy(out->spec_dst, &pi.ipi_spec_dst, 4);
#endif
        out->ifindex = (uint32_t)pi.ipi_ifindex;
        return;
    }
#endif
    /* Linux sends the TTL and TOS as IP_TTL and IP_TOS; the BSDs and
     * macOS as IP_RECVTTL and IP_RECVTOS, one byte each. Both types are
     * accepted everywhere (Windows' IP_RECVTTL is its IP_HOPLIMIT). */
#if defined(IP_RECVTTL) && IP_RECVTTL != IP_TTL
    case IP_RECVTTL:
#endif
    case IP_TTL:
        if (read_small_int(c, len, &out->ttl)) out->has |= PK_HAS_TTL;
        return;
#if defined(IP_RECVTOS) && IP_RECVTOS != IP_TOS
    case IP_RECVTOS:
#endif
    case IP_TOS:
        if (read_small_int(c, len, &out->tos)) {
            out->tos &= 0xff;
            out->has |= PK_HAS_TOS;
        }
        return;
    default:
        return;
    }
}

/* One IPPROTO_IPV6 message. An IPv4 datagram on a dual-stack socket may
 * carry a v4-mapped IPV6_PKTINFO too: the IPv4 one, which has spec_dst,
 * wins whatever the order. */
static void decode_ip6(const struct cmsghdr *c, size_t len, pk_recvinfo *out)
{
    switch (c->cmsg_type) {
    case IPV6_PKTINFO: {
        struct in6_pktinfo pi;
        if (len < sizeof pi || (out->has & PK_HAS_DST_V4)) return;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        out->has |= PK_HAS_DST;
        out->ifindex = (uint32_t)pi.ipi6_ifindex;
        if (pk_ip6_is_v4mapped(pi.ipi6_addr.s6_addr)) {
            out->dst_family = AF_INET;
            memcpy(out->dst, pi.ipi6_addr.s6_addr + 12, 4);
        } else {
            out->dst_family = AF_INET6;
            memcpy(out->dst, pi.ipi6_addr.s6_addr, 16);
        }
        return;
    }
    case IPV6_HOPLIMIT:
        if (read_small_int(c, len, &out->ttl)) out->has |= PK_HAS_TTL;
        return;
#ifdef IPV6_TCLASS
    case IPV6_TCLASS:
        if (read_small_int(c, len, &out->tos)) {
            out->tos &= 0xff;
            out->has |= PK_HAS_TOS;
        }
        return;
#endif
    default:
        return;
    }
}

/* One SOL_SOCKET message: receive time and the drop counter. */
static void decode_socket(const struct cmsghdr *c, size_t len, pk_recvinfo *out)
{
    switch (c->cmsg_type) {
#ifdef SCM_TIMESTAMPNS
    case SCM_TIMESTAMPNS: {
        struct timespec ts;
        if (len < sizeof ts) return;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        out->sec = ts.tv_sec;
        out->nsec = ts.tv_nsec;
        out->has |= PK_HAS_TIME;
        return;
    }
#endif
#if defined(SCM_TIMESTAMP) && !defined(_WIN32)
    case SCM_TIMESTAMP: {        /* SO_TIMESTAMP: where there is no _NS form */
        struct timeval tv;
        if (len < sizeof tv) return;
        memcpy(&tv, CMSG_DATA(c), sizeof tv);
        /* a malformed timeval: tv_usec * 1000 would overflow (found by
         * spec/fuzz/fuzz_cmsg_decode; regress/cmsg_decode keeps the input) */
        if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return;
        out->sec = tv.tv_sec;
        out->nsec = (long)tv.tv_usec * 1000;
        out->has |= PK_HAS_TIME;
        return;
    }
#endif
#ifdef SO_RXQ_OVFL
    case SO_RXQ_OVFL:
        if (len < sizeof(uint32_t)) return;
        memcpy(&out->dropped, CMSG_DATA(c), sizeof(uint32_t));
        out->has |= PK_HAS_DROPPED;
        return;
#endif
    default:
        (void)len;
        (void)out;               /* Windows has neither message */
        return;
    }
}

#ifdef UDP_GRO
/* One IPPROTO_UDP message: UDP_GRO gives the segment size (an int) of a
 * buffer that holds several datagrams of one flow. */
static void decode_udp(const struct cmsghdr *c, size_t len, pk_recvinfo *out)
{
    int seg;
    if (c->cmsg_type != UDP_GRO || !read_small_int(c, len, &seg)) return;
    out->gro = seg > 0 && seg <= 65535 ? (uint32_t)seg : 0;
}
#endif

/* Fills *out from a control buffer as recvmsg left it. Messages are told
 * apart by level and type, never by the socket's family; short, unknown
 * or malformed ones are skipped. control must be aligned for cmsghdr. */
void pk_cmsg_decode(const void *control, size_t len, pk_recvinfo *out)
{
    struct cmsghdr *c;
    const unsigned char *end = (const unsigned char *)control + len;
#ifdef _WIN32
    WSAMSG m;                    /* what WSA_CMSG_* walk */
    memset(&m, 0, sizeof m);
    m.Control.buf = (char *)(uintptr_t)control;
    m.Control.len = (ULONG)len;
#else
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_control = (void *)(uintptr_t)control;
    m.msg_controllen = len;
#endif

    out->has = 0;
    out->gro = 0;
    for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        size_t plen = payload_len(c, end);
        if (c->cmsg_level == IPPROTO_IP) decode_ip(c, plen, out);
        else if (c->cmsg_level == IPPROTO_IPV6) decode_ip6(c, plen, out);
        else if (c->cmsg_level == SOL_SOCKET) decode_socket(c, plen, out);
#ifdef UDP_GRO
        else if (c->cmsg_level == IPPROTO_UDP) decode_udp(c, plen, out);
#endif
    }
}

/* Appends one message at *off; returns 0, or -1 when it does not fit. */
static int put_cmsg(unsigned char *buf, size_t cap, size_t *off,
                    int level, int type, const void *data, size_t len)
{
    struct cmsghdr h;
    if (*off + CMSG_SPACE(len) > cap) return -1;
    memset(buf + *off, 0, CMSG_SPACE(len));
    memset(&h, 0, sizeof h);
    h.cmsg_level = level;
    h.cmsg_type = type;
    h.cmsg_len = CMSG_LEN(len);
    memcpy(buf + *off, &h, sizeof h);
    memcpy(buf + *off + (CMSG_DATA(&h) - (unsigned char *)&h), data, len);
    *off += CMSG_SPACE(len);
    return 0;
}

/* The IPv4 messages for src: IP_PKTINFO (source in ipi_spec_dst, which is
 * what Linux reads; ipi_addr is ignored on send there, and is the source on
 * Windows, which has no spec_dst), IP_TTL, IP_TOS. */
static int encode_ip4(unsigned char *buf, size_t cap, size_t *off,
                      const pk_sendsrc *src)
{
    if (src->has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        if (src->has & PK_SRC_ADDR) {
            if (src->family != AF_INET) return -1;
#ifdef _WIN32
            memcpy(&pi.ipi_addr, src->addr, 4);   /* Windows: no spec_dst */
#else
            memcpy(&pi.ipi_spec_dst, src->addr, 4);
#endif
        }
        if (src->has & PK_SRC_IFINDEX) pi.ipi_ifindex = (int)src->ifindex;
        if (put_cmsg(buf, cap, off, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi))
            return -1;
    }
    if ((src->has & PK_SRC_TTL)
        && put_cmsg(buf, cap, off, IPPROTO_IP, IP_TTL, &src->ttl, sizeof(int)))
        return -1;
    if ((src->has & PK_SRC_TOS)
        && put_cmsg(buf, cap, off, IPPROTO_IP, IP_TOS, &src->tos, sizeof(int)))
        return -1;
    return 0;
}

/* The IPv6 messages for src: IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS. */
static int encode_ip6(unsigned char *buf, size_t cap, size_t *off,
                      const pk_sendsrc *src)
{
    if (src->has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        if (src->has & PK_SRC_ADDR) {
            if (src->family != AF_INET6) return -1;
            memcpy(pi.ipi6_addr.s6_addr, src->addr, 16);
        }
        if (src->has & PK_SRC_IFINDEX) pi.ipi6_ifindex = src->ifindex;
        if (put_cmsg(buf, cap, off, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi))
            return -1;
    }
    if ((src->has & PK_SRC_TTL)
        && put_cmsg(buf, cap, off, IPPROTO_IPV6, IPV6_HOPLIMIT, &src->ttl,
                    sizeof(int)))
        return -1;
    if ((src->has & PK_SRC_TOS)
        && put_cmsg(buf, cap, off, IPPROTO_IPV6, IPV6_TCLASS, &src->tos,
                    sizeof(int)))
        return -1;
    return 0;
}

/* Writes the control messages that send one datagram from src, built for
 * the destination's IP version (dst_family). Returns the bytes written
 * (0: nothing to say), or -1 if src's address is of the other family or
 * buf is too small. buf must be aligned for cmsghdr. */
long pk_cmsg_encode(void *buf, size_t cap, int dst_family,
                    const pk_sendsrc *src)
{
    size_t off = 0;
    int rc = dst_family == AF_INET ? encode_ip4(buf, cap, &off, src)
                                   : encode_ip6(buf, cap, &off, src);
    return rc ? -1 : (long)off;
}

/* Whether an IPv4 address is link-local (169.254.0.0/16). */
static int ip4_is_linklocal(const unsigned char a[4])
{
    return a[0] == 169 && a[1] == 254;
}

/* Sets out's source address (4 or 16 bytes by family). */
static void set_source(pk_sendsrc *out, int family, const unsigned char *a)
{
    out->family = family;
    memcpy(out->addr, a, family == AF_INET ? 4 : 16);
    out->has |= PK_SRC_ADDR;
}

/* Pins out to the interface the request arrived on, when it says. */
static void pin(const pk_request *req, pk_sendsrc *out)
{
    if (!req->ifindex) return;
    out->ifindex = req->ifindex;
    out->has |= PK_SRC_IFINDEX;
}

/* Whether a may be the source of a reply to an IPv4 group request: a
 * unicast address other than the one the request was sent to. */
static int unicast_source(const pk_request *req, const unsigned char a[4])
{
    static const unsigned char none[4], ones[4] = {255, 255, 255, 255};
    return !pk_ip4_is_multicast(a) && memcmp(a, ones, 4) != 0
        && memcmp(a, none, 4) != 0 && memcmp(a, req->dst, 4) != 0;
}

/* Whether an IPv4 request went to a group (multicast or broadcast): a
 * multicast address, 255.255.255.255, an address other than the kernel's
 * spec_dst, or where there is no spec_dst (Windows) one that is no
 * unicast address of this host: a subnet broadcast. *err gets the error
 * of a lookup that failed. */
static int ip4_is_group(const pk_request *req, pk_ifaddr_fn ifaddr, void *ctx,
                        int *err)
{
    static const unsigned char ones[4] = {255, 255, 255, 255};
    unsigned char a[16];
    *err = 0;
    if (pk_ip4_is_multicast(req->dst) || memcmp(req->dst, ones, 4) == 0)
        return 1;
    if (req->has_spec_dst) return memcmp(req->dst, req->spec_dst, 4) != 0;
    /* a subnet's broadcast address has all host bits set, so at least the
     * last two (a /31 or /32 has none): no lookup for any other address */
    if (!ifaddr || (req->dst[3] & 3) != 3) return 0;
    *err = ifaddr(ctx, 0, AF_INET, req->dst, a);
    if (*err == EADDRNOTAVAIL) { *err = 0; return 1; }   /* no IPv4 at all */
    return !*err && memcmp(a, req->dst, 4) != 0;
}

/* The source of a reply to an IPv4 group request, pinned to the arrival
 * interface: the kernel's spec_dst where it is an address of that
 * interface, else the interface's own address for the peer (ifaddr).
 * Without ifaddr or an ifindex: spec_dst, or none (the stack picks). */
static int ip4_group_source(const pk_request *req, pk_ifaddr_fn ifaddr,
                            void *ctx, pk_sendsrc *out)
{
    unsigned char a[16];
    const unsigned char *peer = req->peer_family == AF_INET ? req->peer : NULL;
    int spec = req->has_spec_dst && unicast_source(req, req->spec_dst);
    int err;
    pin(req, out);
    if (!ifaddr || !req->ifindex) {
        if (spec) set_source(out, AF_INET, req->spec_dst);
        return 0;
    }
    if (spec) {
        if ((err = ifaddr(ctx, req->ifindex, AF_INET, req->spec_dst, a)))
            return err;
        if (memcmp(a, req->spec_dst, 4) == 0) {
            set_source(out, AF_INET, a);
            return 0;
        }
    }
    if ((err = ifaddr(ctx, req->ifindex, AF_INET, peer, a))) return err;
    if (unicast_source(req, a)) set_source(out, AF_INET, a);
    return 0;
}

/* The reply rules for an IPv4 request. */
static int reply_ip4(const pk_request *req, pk_ifaddr_fn ifaddr, void *ctx,
                     pk_sendsrc *out)
{
    int err, group = ip4_is_group(req, ifaddr, ctx, &err);
    out->family = AF_INET;
    if (!err && group) err = ip4_group_source(req, ifaddr, ctx, out);
    if (err || group) return err;
    set_source(out, AF_INET, req->dst);      /* unicast: spec_dst is dst */
    if (req->peer_family == AF_INET && ip4_is_linklocal(req->peer))
        pin(req, out);
    return 0;
}

/* The reply rules for an IPv6 request: multicast is answered from "::" on
 * the arrival interface, so that the kernel picks that interface's
 * address; unicast from the address it was sent to, pinned only for a
 * link-local address or peer. */
static void reply_ip6(const pk_request *req, pk_sendsrc *out)
{
    static const unsigned char any[16];
    if (pk_ip6_is_multicast(req->dst)) {
        set_source(out, AF_INET6, any);
        pin(req, out);
        return;
    }
    set_source(out, AF_INET6, req->dst);
    if (pk_ip6_is_linklocal(req->dst)
        || (req->peer_family == AF_INET6 && pk_ip6_is_linklocal(req->peer)))
        pin(req, out);
}

/* The source of a reply to req (README, "Choosing the source"): a unicast
 * request is answered from the address it was sent to and routed normally
 * (pinned to its interface only for a link-local peer, IPv4 or IPv6); a
 * broadcast or multicast one out of the interface it arrived on, from
 * that interface's own unicast address, never the group's. ifaddr (NULL:
 * no lookups) finds an interface's address where the kernel gave none
 * that fits. Returns 0, or the error ifaddr gave; *out then pins the
 * reply to the request's interface with no source, so that a caller that
 * sends anyway never sends from a wrong address (and the kernel refuses
 * an interface that is gone). */
int pk_reply_source(const pk_request *req, pk_ifaddr_fn ifaddr, void *ctx,
                    pk_sendsrc *out)
{
    int err = 0;
    out->has = 0;
    out->family = req->family;
    if (!req->has_dst) return 0;
    if (req->family == AF_INET) err = reply_ip4(req, ifaddr, ctx, out);
    else reply_ip6(req, out);
    if (err) {
        out->has = 0;
        pin(req, out);
    }
    return err;
}
