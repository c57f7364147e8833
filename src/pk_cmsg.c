/* Control messages: decode, encode, and the reply-source rules. The
 * decoder and encoder walk bytes through a pk_layout (pk_layout.h): the
 * same code reads and writes this build's form (pk_cmsg_decode,
 * pk_cmsg_encode) and, in the C tests, every other platform's. */
#include "pk_cmsg.h"
#include "pk_addr.h"
#include "pk_layout_native.h"

#include <string.h>

static const pk_layout native = PK_NATIVE_LAYOUT;

/* This build's layout, read from its system headers. */
const pk_layout *pk_cmsg_native(void)
{
    return &native;
}

/* n rounded up to the layout's alignment (a power of two). */
static size_t align_up(const pk_layout *L, size_t n)
{
    size_t mask = (size_t)L->align - 1;
    return (n + mask) & ~mask;
}

/* The bytes of a message header: cmsg_len, then level and type. */
static size_t header_size(const pk_layout *L)
{
    return (size_t)L->len_size + 2 * 4;
}

/* An unsigned integer of size bytes (1, 2, 4 or 8) at p, host order. */
static uint64_t get_uint(const unsigned char *p, int size)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (size) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: memcpy(&u64, p, 8); return u64;
    }
}

/* A signed integer of size bytes (4 or 8) at p, host order. */
static int64_t get_int(const unsigned char *p, int size)
{
    int32_t i32;
    int64_t i64;
    if (size == 4) { memcpy(&i32, p, 4); return i32; }
    memcpy(&i64, p, 8);
    return i64;
}

/* Writes v as size bytes (1, 4 or 8) at p, host order. */
static void put_uint(unsigned char *p, int size, uint64_t v)
{
    uint8_t u8 = (uint8_t)v;
    uint32_t u32 = (uint32_t)v;
    if (size == 1) memcpy(p, &u8, 1);
    else if (size == 4) memcpy(p, &u32, 4);
    else memcpy(p, &v, 8);
}

/* Whether a message type is the one a layout names (never PK_NONE). */
static int is(int type, int want)
{
    return want != PK_NONE && type == want;
}

/* What the messages of one datagram said, merged once all are read. */
typedef struct walk {
    const pk_layout *L;
    pk_recvinfo *out;
    int pktinfo4, has_spec, dstaddr, recvif, pktinfo6, orig4, orig6;
    unsigned char dst4[4], spec4[4], dstaddr4[4], dst6[16];
    unsigned char orig4_addr[4], orig6_addr[16];
    uint32_t ifindex4, recvif_index, ifindex6;
    uint16_t orig4_port, orig6_port;
} walk;

/* The port of a sockaddr_in or sockaddr_in6 (at offset 2 on every
 * platform, after sin_family or sin_len and sin_family), host order. */
static uint16_t sockaddr_port(const unsigned char *sa)
{
    return (uint16_t)(sa[2] << 8 | sa[3]);
}

/* A TTL or TOS: an int, or one byte (IP_RECVTTL, IP_RECVTOS on the BSDs
 * and macOS, IP_TOS on Linux). Returns 0 when there is not even a byte. */
static int small_int(const unsigned char *data, size_t len, int *out)
{
    if (len >= 4) *out = (int)get_int(data, 4);
    else if (len >= 1) *out = data[0];
    else return 0;
    return 1;
}

/* One IPPROTO_IP message. */
static void decode_ip(walk *w, int type, const unsigned char *data, size_t len)
{
    const pk_layout *L = w->L;
    if (is(type, L->ip_pktinfo)) {
        if (len < (size_t)L->pi_size) return;
        memcpy(w->dst4, data + L->pi_addr, 4);
        w->ifindex4 = (uint32_t)get_uint(data + L->pi_ifindex, 4);
        w->has_spec = L->rx_spec_dst && L->pi_spec_dst != PK_NONE;
        if (w->has_spec) memcpy(w->spec4, data + L->pi_spec_dst, 4);
        w->pktinfo4 = 1;
    } else if (is(type, L->ip_recvdstaddr)) {
        if (len < 4) return;
        memcpy(w->dstaddr4, data, 4);
        w->dstaddr = 1;
    } else if (is(type, L->ip_recvif)) {
        if (len < 4) return;             /* sdl_len, sdl_family, sdl_index */
        w->recvif_index = (uint32_t)get_uint(data + 2, 2);
        w->recvif = 1;
    } else if (is(type, L->ip_origdstaddr)) {
        if (len < 16) return;            /* sockaddr_in: port 2, address 4 */
        w->orig4_port = sockaddr_port(data);
        memcpy(w->orig4_addr, data + 4, 4);
        w->orig4 = 1;
    } else if (is(type, L->ip_ttl) || is(type, L->ip_recvttl)) {
        if (small_int(data, len, &w->out->ttl)) w->out->has |= PK_HAS_TTL;
    } else if (is(type, L->ip_tos) || is(type, L->ip_recvtos)) {
        if (small_int(data, len, &w->out->tos)) {
            w->out->tos &= 0xff;
            w->out->has |= PK_HAS_TOS;
        }
    }
}

/* One IPPROTO_IPV6 message. */
static void decode_ip6(walk *w, int type, const unsigned char *data, size_t len)
{
    const pk_layout *L = w->L;
    if (is(type, L->ipv6_pktinfo)) {
        if (len < 20) return;
        memcpy(w->dst6, data, 16);
        w->ifindex6 = (uint32_t)get_uint(data + 16, 4);
        w->pktinfo6 = 1;
    } else if (is(type, L->ipv6_origdstaddr)) {
        if (len < 28) return;            /* sockaddr_in6: port 2, address 8 */
        w->orig6_port = sockaddr_port(data);
        memcpy(w->orig6_addr, data + 8, 16);
        w->orig6 = 1;
    } else if (is(type, L->ipv6_hoplimit)) {
        if (small_int(data, len, &w->out->ttl)) w->out->has |= PK_HAS_TTL;
    } else if (is(type, L->ipv6_tclass)) {
        if (small_int(data, len, &w->out->tos)) {
            w->out->tos &= 0xff;
            w->out->has |= PK_HAS_TOS;
        }
    }
}

/* One IPPROTO_UDP message: UDP_GRO gives the segment size of a buffer
 * that holds several datagrams of one flow (option gro). */
static void decode_udp(walk *w, int type, const unsigned char *data, size_t len)
{
    int seg;
    if (!is(type, w->L->udp_gro) || !small_int(data, len, &seg)) return;
    w->out->gro = seg > 0 && seg <= 65535 ? (uint32_t)seg : 0;
}

/* A receive time from a timeval (unit 1000: microseconds) or a timespec
 * (unit 1) laid out as sec at 0 and the fraction at frac_off. */
static void decode_time(pk_recvinfo *out, const unsigned char *data,
                        size_t len, int size, int sec_size, int frac_off,
                        int frac_size, long unit)
{
    int64_t frac;
    if (len < (size_t)size || size == 0) return;
    frac = get_int(data + frac_off, frac_size);
    /* a malformed fraction: frac * unit could overflow (found by
     * spec/fuzz/fuzz_cmsg_decode; regress/cmsg_decode keeps the input) */
    if (frac < 0 || frac >= 1000000000 / unit) return;
    out->sec = get_int(data, sec_size);
    out->nsec = (long)frac * unit;
    out->has |= PK_HAS_TIME;
}

/* One SOL_SOCKET message: receive time and the drop counter. */
static void decode_socket(walk *w, int type, const unsigned char *data,
                          size_t len)
{
    const pk_layout *L = w->L;
    if (is(type, L->scm_timestampns)) {
        decode_time(w->out, data, len, L->ts_size, L->ts_sec_size,
                    L->ts_nsec_off, L->ts_nsec_size, 1);
    } else if (is(type, L->scm_timestamp)) {
        decode_time(w->out, data, len, L->tv_size, L->tv_sec_size,
                    L->tv_usec_off, L->tv_usec_size, 1000);
    } else if (is(type, L->so_rxq_ovfl)) {
        if (len < 4) return;
        w->out->dropped = (uint32_t)get_uint(data, 4);
        w->out->has |= PK_HAS_DROPPED;
    }
}

/* Merges the original-destination messages (option recvorigdst): an IPv4
 * datagram on a dual-stack socket may carry both, and the IPv4 one wins
 * whatever the order; a v4-mapped IPv6 one is reported as IPv4. */
static void finish_orig(walk *w)
{
    pk_recvinfo *out = w->out;
    if (w->orig4) {
        out->orig_family = AF_INET;
        memcpy(out->orig, w->orig4_addr, 4);
        out->orig_port = w->orig4_port;
    } else if (w->orig6 && pk_ip6_is_v4mapped(w->orig6_addr)) {
        out->orig_family = AF_INET;
        memcpy(out->orig, w->orig6_addr + 12, 4);
        out->orig_port = w->orig6_port;
    } else if (w->orig6) {
        out->orig_family = AF_INET6;
        memcpy(out->orig, w->orig6_addr, 16);
        out->orig_port = w->orig6_port;
    } else {
        return;
    }
    out->has |= PK_HAS_ORIGDST;
}

/* Merges the destination messages. An IPv4 one (in_pktinfo, or
 * IP_RECVDSTADDR with IP_RECVIF's index) wins over a v4-mapped
 * IPV6_PKTINFO, which a dual-stack socket may get too, whatever the order. */
static void finish(walk *w)
{
    pk_recvinfo *out = w->out;
    finish_orig(w);
    if (w->pktinfo4 || w->dstaddr) {
        out->has |= PK_HAS_DST | PK_HAS_DST_V4;
        out->dst_family = AF_INET;
        memcpy(out->dst, w->pktinfo4 ? w->dst4 : w->dstaddr4, 4);
        out->ifindex = w->pktinfo4 ? w->ifindex4
                     : w->recvif ? w->recvif_index
                     : w->pktinfo6 ? w->ifindex6 : 0;
        if (w->pktinfo4 && w->has_spec) {
            out->has |= PK_HAS_SPEC_DST;
            memcpy(out->spec_dst, w->spec4, 4);
        }
    } else if (w->pktinfo6) {
        out->has |= PK_HAS_DST;
        out->ifindex = w->ifindex6;
        if (pk_ip6_is_v4mapped(w->dst6)) {
            out->dst_family = AF_INET;
            memcpy(out->dst, w->dst6 + 12, 4);
        } else {
            out->dst_family = AF_INET6;
            memcpy(out->dst, w->dst6, 16);
        }
    }
}

/* Fills *out from a control buffer laid out as L says (as recvmsg left
 * it). Messages are told apart by level and type, never by the socket's
 * family; short, unknown or malformed ones are skipped, and a cmsg_len
 * shorter than a header ends the walk. control must be aligned as L's
 * cmsghdr. */
void pk_cmsg_decode_as(const pk_layout *L, const void *control, size_t len,
                       pk_recvinfo *out)
{
    const unsigned char *base = (const unsigned char *)control;
    size_t hdr = header_size(L), data_off = align_up(L, hdr), off = 0;
    walk w;

    memset(&w, 0, sizeof w);
    w.L = L;
    w.out = out;
    out->has = 0;
    out->gro = 0;
    while (len - off >= hdr) {
        const unsigned char *c = base + off;
        uint64_t clen = get_uint(c, L->len_size);
        size_t avail = len - off, plen, step;
        if (clen < hdr) break;
        plen = clen < avail ? (size_t)clen : avail;    /* inside the buffer */
        if (plen > data_off) {
            int level = (int)get_int(c + L->len_size, 4);
            int type = (int)get_int(c + L->len_size + 4, 4);
            const unsigned char *data = c + data_off;
            plen -= data_off;
            if (level == IPPROTO_IP) decode_ip(&w, type, data, plen);
            else if (level == IPPROTO_IPV6) decode_ip6(&w, type, data, plen);
            else if (level == L->sol_socket) decode_socket(&w, type, data, plen);
            else if (level == IPPROTO_UDP) decode_udp(&w, type, data, plen);
        }
        if (clen >= avail) break;
        step = align_up(L, (size_t)clen);
        if (step >= avail) break;
        off += step;
    }
    finish(&w);
}

/* pk_cmsg_decode_as with this build's layout. */
void pk_cmsg_decode(const void *control, size_t len, pk_recvinfo *out)
{
    pk_cmsg_decode_as(&native, control, len, out);
}

/* Appends one message at *off; returns 0, or -1 when it does not fit. */
static int put_msg(const pk_layout *L, unsigned char *buf, size_t cap,
                   size_t *off, int level, int type, const void *data,
                   size_t len)
{
    size_t data_off = align_up(L, header_size(L));
    size_t space = data_off + align_up(L, len);
    unsigned char *m;
    if (*off > cap || cap - *off < space) return -1;
    m = buf + *off;
    memset(m, 0, space);
    put_uint(m, L->len_size, data_off + len);
    put_uint(m + L->len_size, 4, (uint32_t)level);
    put_uint(m + L->len_size + 4, 4, (uint32_t)type);
    memcpy(m + data_off, data, len);
    *off = *off + space;
    return 0;
}

/* The IPv4 source and interface: an in_pktinfo with the address where the
 * kernel reads it (ipi_spec_dst on Linux and macOS, ipi_addr on Windows
 * and NetBSD), or IP_SENDSRCADDR, which has no interface: an address with
 * an interface sends the address alone (the route picks the interface),
 * an interface alone cannot be sent. */
static int encode_src4(const pk_layout *L, unsigned char *buf, size_t cap,
                       size_t *off, const pk_sendsrc *src)
{
    unsigned char pi[32];
    int addr = (src->has & PK_SRC_ADDR) != 0;
    if (L->tx_src4 == PK_TX4_SENDSRCADDR) {
        if (!addr) return PK_CMSG_UNSUPPORTED;
        return put_msg(L, buf, cap, off, IPPROTO_IP, L->ip_sendsrcaddr,
                       src->addr, 4);
    }
    if ((L->tx_src4 != PK_TX4_SPEC_DST && L->tx_src4 != PK_TX4_ADDR)
        || (size_t)L->pi_size > sizeof pi)
        return PK_CMSG_UNSUPPORTED;
    memset(pi, 0, sizeof pi);
    if (addr)
        memcpy(pi + (L->tx_src4 == PK_TX4_SPEC_DST ? L->pi_spec_dst : L->pi_addr),
               src->addr, 4);
    if (src->has & PK_SRC_IFINDEX) put_uint(pi + L->pi_ifindex, 4, src->ifindex);
    return put_msg(L, buf, cap, off, IPPROTO_IP, L->ip_pktinfo, pi,
                   (size_t)L->pi_size);
}

/* The IPv4 messages for src: source and interface, TTL, TOS. A TTL or TOS
 * the platform's kernel does not take per datagram is refused, not
 * dropped (PK_CMSG_UNSUPPORTED). */
static int encode_ip4(const pk_layout *L, unsigned char *buf, size_t cap,
                      size_t *off, const pk_sendsrc *src)
{
    int rc;
    if (src->has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
        if ((src->has & PK_SRC_ADDR) && src->family != AF_INET) return -1;
        if ((rc = encode_src4(L, buf, cap, off, src))) return rc;
    }
    if (src->has & PK_SRC_TTL) {
        uint32_t ttl = (uint32_t)src->ttl;
        if (L->tx_ttl4 == PK_NONE) return PK_CMSG_UNSUPPORTED;
        if (put_msg(L, buf, cap, off, IPPROTO_IP, L->tx_ttl4, &ttl, 4)) return -1;
    }
    if (src->has & PK_SRC_TOS) {
        uint32_t tos = (uint32_t)src->tos;
        unsigned char byte = (unsigned char)src->tos;
        int one = L->tx_tos4_size == 1;          /* FreeBSD: a u_char */
        if (L->tx_tos4 == PK_NONE) return PK_CMSG_UNSUPPORTED;
        if (put_msg(L, buf, cap, off, IPPROTO_IP, L->tx_tos4,
                    one ? (const void *)&byte : (const void *)&tos,
                    one ? 1 : 4))
            return -1;
    }
    return 0;
}

/* The IPv6 messages for src (RFC 3542 on every platform): IPV6_PKTINFO,
 * IPV6_HOPLIMIT, IPV6_TCLASS. */
static int encode_ip6(const pk_layout *L, unsigned char *buf, size_t cap,
                      size_t *off, const pk_sendsrc *src)
{
    if (src->has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
        unsigned char pi[20];
        memset(pi, 0, sizeof pi);
        if (src->has & PK_SRC_ADDR) {
            if (src->family != AF_INET6) return -1;
            memcpy(pi, src->addr, 16);
        }
        if (src->has & PK_SRC_IFINDEX) put_uint(pi + 16, 4, src->ifindex);
        if (put_msg(L, buf, cap, off, IPPROTO_IPV6, L->ipv6_pktinfo, pi, 20))
            return -1;
    }
    if (src->has & PK_SRC_TTL) {
        uint32_t hops = (uint32_t)src->ttl;
        if (put_msg(L, buf, cap, off, IPPROTO_IPV6, L->ipv6_hoplimit, &hops, 4))
            return -1;
    }
    if (src->has & PK_SRC_TOS) {
        uint32_t tclass = (uint32_t)src->tos;
        if (L->ipv6_tclass == PK_NONE) return PK_CMSG_UNSUPPORTED;
        if (put_msg(L, buf, cap, off, IPPROTO_IPV6, L->ipv6_tclass, &tclass, 4))
            return -1;
    }
    return 0;
}

/* Writes, in L's layout, the control messages that send one datagram from
 * src, built for the destination's IP version (dst_family). Returns the
 * bytes written (0: nothing to say), -1 if src's address is of the other
 * family or buf is too small, or PK_CMSG_UNSUPPORTED if the platform
 * cannot send part of src per datagram. buf must be aligned as L's
 * cmsghdr. */
long pk_cmsg_encode_as(const pk_layout *L, void *buf, size_t cap,
                       int dst_family, const pk_sendsrc *src)
{
    size_t off = 0;
    int rc = dst_family == AF_INET
        ? encode_ip4(L, (unsigned char *)buf, cap, &off, src)
        : encode_ip6(L, (unsigned char *)buf, cap, &off, src);
    return rc ? (long)rc : (long)off;
}

/* pk_cmsg_encode_as with this build's layout. */
long pk_cmsg_encode(void *buf, size_t cap, int dst_family,
                    const pk_sendsrc *src)
{
    return pk_cmsg_encode_as(&native, buf, cap, dst_family, src);
}

/* Removes, from control data pk_cmsg_encode_as wrote (len bytes), every
 * IP_SENDSRCADDR message whose address is bound (4 bytes): FreeBSD
 * refuses IP_SENDSRCADDR on a socket bound to an address, and such a
 * socket sends from that address anyway. Returns the new length. */
size_t pk_cmsg_drop_srcaddr(const pk_layout *L, void *control, size_t len,
                            const unsigned char bound[4])
{
    unsigned char *base = (unsigned char *)control;
    size_t hdr = header_size(L), data_off = align_up(L, hdr), off = 0;
    while (L->ip_sendsrcaddr != PK_NONE && len - off >= hdr) {
        unsigned char *c = base + off;
        uint64_t clen = get_uint(c, L->len_size);
        size_t step;
        if (clen < hdr || clen > len - off) break;
        step = align_up(L, (size_t)clen);
        if (step > len - off) step = len - off;
        if (get_int(c + L->len_size, 4) == IPPROTO_IP
            && get_int(c + L->len_size + 4, 4) == L->ip_sendsrcaddr
            && clen == data_off + 4 && memcmp(c + data_off, bound, 4) == 0) {
            memmove(c, c + step, len - off - step);
            len -= step;
        } else {
            off += step;
        }
    }
    return len;
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
