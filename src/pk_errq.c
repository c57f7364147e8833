/* Decoding one message of the error queue (IP_RECVERR / IPV6_RECVERR):
 * the sock_extended_err in its control data and the address of who
 * reported it. No system calls: the fuzzer and the C tests run it on
 * arbitrary bytes. Where there is no error queue it finds nothing. */
#include "pk_gw.h"

#include <string.h>

/* The name of an error's origin, as recverr() reports it. */
const char *pk_errq_origin_name(int origin)
{
    switch (origin) {
    case PK_ORIGIN_LOCAL: return "local";
    case PK_ORIGIN_ICMP: return "icmp";
    case PK_ORIGIN_ICMP6: return "icmp6";
    case PK_ORIGIN_TIMESTAMPING: return "timestamping";
    case PK_ORIGIN_ZEROCOPY: return "zerocopy";
    case PK_ORIGIN_TXTIME: return "txtime";
    default: return "none";
    }
}

#ifdef PK_HAVE_ERRQUEUE

/* Copies the offender (the sockaddr after the extended error, len bytes
 * of payload in all) when it is a whole IPv4 or IPv6 address. */
static void read_offender(const unsigned char *p, size_t len, pk_errinfo *out)
{
    sa_family_t family;
    size_t need;
    len -= sizeof(struct sock_extended_err);
    p += sizeof(struct sock_extended_err);
    if (len < sizeof family) return;
    memcpy(&family, p, sizeof family);
    need = family == AF_INET ? sizeof(struct sockaddr_in)
         : family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
    if (!need || len < need) return;
    memset(&out->offender, 0, sizeof out->offender);
    memcpy(&out->offender, p, need);
    out->has_offender = 1;
}

/* Fills *out from the control data of an error-queue message (aligned
 * for cmsghdr); returns whether it held an extended error. The last one
 * counts if there are several. */
int pk_errq_decode(const void *control, size_t len, pk_errinfo *out)
{
    const unsigned char *base = (const unsigned char *)control;
    size_t off = 0;

    /* walked by offsets: musl's CMSG_NXTHDR trips -Wsign-compare */
    out->found = 0;
    while (len - off >= CMSG_LEN(0)) {
        struct cmsghdr c;
        struct sock_extended_err ee;
        const unsigned char *data = base + off + CMSG_LEN(0);
        size_t avail = len - off, clen, plen;
        memcpy(&c, base + off, sizeof c);
        clen = (size_t)c.cmsg_len;
        if (clen < CMSG_LEN(0)) break;
        plen = (clen < avail ? clen : avail) - CMSG_LEN(0);
        if (((c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_RECVERR)
             || (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_RECVERR))
            && plen >= sizeof ee) {
            memcpy(&ee, data, sizeof ee);
            out->found = 1;
            out->err = (int)ee.ee_errno;
            out->origin = ee.ee_origin;
            out->type = ee.ee_type;
            out->code = ee.ee_code;
            out->info = ee.ee_info;
            out->has_offender = 0;
            read_offender(data, plen, out);
        }
        if (clen >= avail || CMSG_ALIGN(clen) >= avail) break;
        off += CMSG_ALIGN(clen);
    }
    return out->found;
}

#else

/* No error queue on this platform: nothing is ever found. */
int pk_errq_decode(const void *control, size_t len, pk_errinfo *out)
{
    (void)control;
    (void)len;
    out->found = 0;
    return 0;
}

#endif
