/* Control messages: decoding what recvmsg returns, encoding what sendmsg
 * takes, and choosing the source of a reply. No lua_State here: the fuzzer
 * and the Windows port use this file unchanged. */
#ifndef PK_CMSG_H
#define PK_CMSG_H

#include "pk_platform.h"
#include "pk_layout.h"

/* Room for every control message the module can enable at once (both
 * pktinfos, TTL and hop limit, TOS and traffic class, a timestamp, the drop
 * counter and both original destinations) with generous slack for options
 * set by a wrapped socket's other owner. A datagram whose control data
 * still does not fit is reported with info.ctruncated. */
#define PK_CMSG_RECV_CAP 512
/* Room for what pk_cmsg_encode writes: one pktinfo, a TTL and a TOS. */
#define PK_CMSG_SEND_CAP 128

/* A control buffer aligned for struct cmsghdr. */
typedef union pk_cmsgbuf {
    struct cmsghdr align;
    unsigned char bytes[PK_CMSG_RECV_CAP];
} pk_cmsgbuf;

/* Which fields of pk_recvinfo hold a value. */
enum {
    PK_HAS_DST = 1 << 0,     /* dst_family, dst, ifindex */
    PK_HAS_SPEC_DST = 1 << 1,
    PK_HAS_TTL = 1 << 2,
    PK_HAS_TOS = 1 << 3,
    PK_HAS_TIME = 1 << 4,
    PK_HAS_DROPPED = 1 << 5,
    PK_HAS_DST_V4 = 1 << 6,  /* the destination came from IP_PKTINFO */
    PK_HAS_ORIGDST = 1 << 12     /* orig_family, orig, orig_port */
};

/* What the control messages of one datagram say. */
typedef struct pk_recvinfo {
    unsigned has;
    uint32_t gro;                /* UDP_GRO: the segment size of a buffer the
                                  * kernel coalesced (0: one datagram) */
    int dst_family;              /* AF_INET or AF_INET6 (v4-mapped unmapped) */
    unsigned char dst[16];       /* 4 bytes used for AF_INET */
    unsigned char spec_dst[4];
    uint32_t ifindex;
    int ttl;
    int tos;
    int64_t sec;
    long nsec;
    uint32_t dropped;
    int orig_family;             /* option recvorigdst: AF_INET or AF_INET6 */
    unsigned char orig[16];      /* the destination before a TPROXY rule */
    uint16_t orig_port;          /* its port (host order) */
} pk_recvinfo;

/* Which fields of pk_sendsrc are set. */
enum {
    PK_SRC_ADDR = 1 << 0,
    PK_SRC_IFINDEX = 1 << 1,
    PK_SRC_TTL = 1 << 2,
    PK_SRC_TOS = 1 << 3
};

/* Where and how one datagram is to be sent from. */
typedef struct pk_sendsrc {
    unsigned has;
    int family;                  /* of addr: AF_INET or AF_INET6 */
    unsigned char addr[16];
    uint32_t ifindex;
    int ttl;
    int tos;
} pk_sendsrc;

/* What a received datagram said about itself, as reply rules need it
 * (read from an info table: addr, spec_dst, ifindex, from). */
typedef struct pk_request {
    int family;                  /* the datagram's IP version (of dst) */
    int has_dst;
    unsigned char dst[16];       /* info.addr */
    int has_spec_dst;
    unsigned char spec_dst[4];   /* info.spec_dst (IPv4 only) */
    uint32_t ifindex;            /* info.ifindex (0: none) */
    int peer_family;             /* of peer: AF_INET, AF_INET6, 0 unknown */
    unsigned char peer[16];      /* info.from, unmapped, without its scope */
} pk_request;

/* Looks up an address of interface ifindex (0: of any interface), of
 * family, for a reply to peer (4 or 16 bytes, or NULL when unknown): the
 * one whose subnet holds peer, sharing the longest prefix with it, so
 * peer itself when peer is an address there; else one of peer's scope
 * (link-local or not); else the first. Writes it
 * to out (4 or 16 bytes) and returns 0, or an error number (ENODEV: no
 * such interface; EADDRNOTAVAIL: it has no address of that family). The
 * real one is pk_iface_addr (pk_iface.h); tests pass a stand-in. */
typedef int (*pk_ifaddr_fn)(void *ctx, uint32_t ifindex, int family,
                            const unsigned char *peer, unsigned char *out);

/* pk_cmsg_encode's answer when the platform's kernel cannot take part of
 * a source per datagram (an IPv4 TTL or TOS on macOS, an IPv4 interface
 * without an address where only IP_SENDSRCADDR exists): report it as
 * ENOPROTOOPT, never send without it. */
#define PK_CMSG_UNSUPPORTED (-2)

void pk_cmsg_decode(const void *control, size_t len, pk_recvinfo *out);
long pk_cmsg_encode(void *buf, size_t cap, int dst_family,
                    const pk_sendsrc *src);
/* The same in a given platform's layout (pk_layout.h), for the tests. */
const pk_layout *pk_cmsg_native(void);
void pk_cmsg_decode_as(const pk_layout *L, const void *control, size_t len,
                       pk_recvinfo *out);
long pk_cmsg_encode_as(const pk_layout *L, void *buf, size_t cap,
                       int dst_family, const pk_sendsrc *src);
size_t pk_cmsg_drop_srcaddr(const pk_layout *L, void *control, size_t len,
                            const unsigned char bound[4]);
int pk_reply_source(const pk_request *req, pk_ifaddr_fn ifaddr, void *ctx,
                    pk_sendsrc *out);

#endif
