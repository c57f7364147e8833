/* Control messages: decoding what recvmsg returns, encoding what sendmsg
 * takes, and choosing the source of a reply. No lua_State here: the fuzzer
 * and the Windows port use this file unchanged. */
#ifndef PK_CMSG_H
#define PK_CMSG_H

#include "pk_platform.h"

/* Room for every control message the module can enable at once (both
 * pktinfos, TTL and hop limit, TOS and traffic class, a timestamp and the
 * drop counter) with generous slack for options set by a wrapped socket's
 * other owner. A datagram whose control data still does not fit is reported
 * with info.ctruncated. */
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
    PK_HAS_DST_V4 = 1 << 6   /* the destination came from IP_PKTINFO */
};

/* What the control messages of one datagram say. */
typedef struct pk_recvinfo {
    unsigned has;
    int dst_family;              /* AF_INET or AF_INET6 (v4-mapped unmapped) */
    unsigned char dst[16];       /* 4 bytes used for AF_INET */
    unsigned char spec_dst[4];
    uint32_t ifindex;
    int ttl;
    int tos;
    int64_t sec;
    long nsec;
    uint32_t dropped;
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

/* What a received datagram said about itself, as reply rules need it. */
typedef struct pk_request {
    int family;                  /* the datagram's IP version */
    int has_dst;
    unsigned char dst[16];
    int has_spec_dst;
    unsigned char spec_dst[4];
    uint32_t ifindex;
    int peer_linklocal;          /* the sender is an IPv6 link-local address */
} pk_request;

void pk_cmsg_decode(const void *control, size_t len, pk_recvinfo *out);
long pk_cmsg_encode(void *buf, size_t cap, int dst_family,
                    const pk_sendsrc *src);
void pk_reply_source(const pk_request *req, pk_sendsrc *out);

#endif
