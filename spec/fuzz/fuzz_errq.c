/* libFuzzer target: pk_errq_decode on arbitrary control buffers, as the
 * error queue could leave them: any lengths, levels, types, extended
 * errors cut short, offenders of any family and size. The input is
 * copied into a buffer of exactly its size (malloc is aligned for
 * cmsghdr), so AddressSanitizer catches a read one byte past len. */
#include "pk_gw.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_errinfo e;
    unsigned char *buf = (unsigned char *)malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    memset(&e, 0xa5, sizeof e);
    pk_errq_decode(buf, size, &e);
    /* An offender is only ever a whole IPv4 or IPv6 address. */
    if (e.found && e.has_offender && e.offender.sa.sa_family != AF_INET
        && e.offender.sa.sa_family != AF_INET6)
        abort();
    if (e.found != 0 && e.found != 1) abort();
    (void)pk_errq_origin_name(e.found ? e.origin : 0);
    free(buf);
    return 0;
}
