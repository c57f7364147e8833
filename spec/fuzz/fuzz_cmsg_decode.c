/* libFuzzer target: pk_cmsg_decode on arbitrary control buffers, as a
 * hostile or buggy kernel (or a wrapped socket's other owner) could leave
 * them: any lengths, levels, types, truncated and misaligned headers.
 * The input is copied into a buffer of exactly its size (malloc is aligned
 * for cmsghdr), so AddressSanitizer catches a read one byte past len. */
#include "pk_cmsg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_recvinfo ri;
    unsigned char *buf = (unsigned char *)malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    memset(&ri, 0xa5, sizeof ri);
    pk_cmsg_decode(buf, size, &ri);
    /* Only the documented flags may be set, and a destination has a family. */
    if (ri.has & ~(0x7fu | PK_HAS_ORIGDST)) abort();
    if ((ri.has & PK_HAS_ORIGDST) && ri.orig_family != AF_INET
        && ri.orig_family != AF_INET6)
        abort();
    if ((ri.has & PK_HAS_DST) && ri.dst_family != AF_INET
        && ri.dst_family != AF_INET6)
        abort();
    if ((ri.has & PK_HAS_TOS) && (ri.tos < 0 || ri.tos > 255)) abort();
    if (ri.gro > 65535) abort();             /* a UDP_GRO segment size */
    free(buf);
    return 0;
}
