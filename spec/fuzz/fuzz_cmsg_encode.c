/* libFuzzer target: pk_cmsg_encode round trip. The input chooses a source
 * (which fields, address, ifindex, TTL, TOS), the destination family and
 * the room given; what is encoded must fit that room exactly (ASan checks
 * the writes against a buffer of exactly cap bytes), be refused only when
 * it cannot be sent, and decode back to the same source. */
#include "pk_cmsg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Bytes the encoder needs for src toward dst_family (-1: refused). */
static long expected_len(int dst_family, const pk_sendsrc *src)
{
    long n = 0;
    if (src->has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
        if ((src->has & PK_SRC_ADDR) && src->family != dst_family) return -1;
        n += dst_family == AF_INET ? (long)CMSG_SPACE(sizeof(struct in_pktinfo))
                                   : (long)CMSG_SPACE(sizeof(struct in6_pktinfo));
    }
    if (src->has & PK_SRC_TTL) n += (long)CMSG_SPACE(sizeof(int));
    if (src->has & PK_SRC_TOS) n += (long)CMSG_SPACE(sizeof(int));
    return n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_sendsrc src;
    pk_recvinfo ri;
    unsigned char *buf;
    size_t cap;
    long n, want;
    int dst_family;

    if (size < 1 + 1 + 2 + 16 + 4 + 4 + 4) return 0;
    memset(&src, 0, sizeof src);
    src.has = data[0] & 0x0f;
    dst_family = data[0] & 0x10 ? AF_INET6 : AF_INET;
    src.family = data[0] & 0x20 ? AF_INET6 : AF_INET;
    cap = (size_t)data[1] | (size_t)(data[2] & 1) << 8;
    memcpy(src.addr, data + 4, 16);
    memcpy(&src.ifindex, data + 20, 4);
    memcpy(&src.ttl, data + 24, 4);
    memcpy(&src.tos, data + 28, 4);

    buf = (unsigned char *)malloc(cap ? cap : 1);
    if (!buf) return 0;
    n = pk_cmsg_encode(buf, cap, dst_family, &src);
    want = expected_len(dst_family, &src);
    if (want >= 0 && (size_t)want > cap) want = -1;
    if (n != want) abort();
    if (n > 0) {
        pk_cmsg_decode(buf, (size_t)n, &ri);
        if (src.has & (PK_SRC_ADDR | PK_SRC_IFINDEX)) {
            uint32_t ifx = src.has & PK_SRC_IFINDEX ? src.ifindex : 0;
            if (!(ri.has & PK_HAS_DST)) abort();
            if (dst_family == AF_INET) {
                /* IPv4 sends the source in ipi_spec_dst (ipi_addr is 0);
                 * ipi_ifindex is an int: the bits survive. */
                static const unsigned char zero[4];
                const unsigned char *a = src.has & PK_SRC_ADDR ? src.addr : zero;
                if (!(ri.has & PK_HAS_SPEC_DST) || memcmp(ri.spec_dst, a, 4))
                    abort();
            } else if (src.has & PK_SRC_ADDR) {
                unsigned char got[16];
                memset(got, 0, sizeof got);
                if (ri.dst_family == AF_INET) {   /* v4-mapped, unmapped */
                    got[10] = got[11] = 0xff;
                    memcpy(got + 12, ri.dst, 4);
                } else {
                    memcpy(got, ri.dst, 16);
                }
                if (memcmp(got, src.addr, 16)) abort();
            }
            if (ri.ifindex != ifx) abort();
        } else if (ri.has & PK_HAS_DST) {
            abort();
        }
        if (!!(ri.has & PK_HAS_TTL) != !!(src.has & PK_SRC_TTL)) abort();
        if ((src.has & PK_SRC_TTL) && ri.ttl != src.ttl) abort();
        if (!!(ri.has & PK_HAS_TOS) != !!(src.has & PK_SRC_TOS)) abort();
        if ((src.has & PK_SRC_TOS) && ri.tos != (src.tos & 0xff)) abort();
    }
    free(buf);
    return 0;
}
