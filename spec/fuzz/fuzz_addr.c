/* libFuzzer target: address text parser and formatter against libc.
 * - pk_addr_parse must accept exactly what inet_pton accepts (for text
 *   without a scope), and give the same bytes;
 * - pk_format_ip4/ip6 must write exactly what inet_ntop writes, for the
 *   parsed address and for the first bytes of the input taken as binary;
 * - parse(format(a)) == a, scoped text ("fe80::1%lo", "fe80::1%7") too. */
#include "pk_addr.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Our text of the 16 (or 4) bytes a must equal inet_ntop's, and parse back. */
static void check_format(int family, const unsigned char *a)
{
    char ours[PK_ADDRSTRLEN], libc[INET6_ADDRSTRLEN];
    pk_sockaddr back;
    size_t n;
    memset(ours, 0x5a, sizeof ours);
    n = family == AF_INET ? pk_format_ip4(a, ours) : pk_format_ip6(a, ours);
    if (!inet_ntop(family, a, libc, sizeof libc)) abort();
    if (n != strlen(ours) || strcmp(ours, libc) != 0) abort();
    if (pk_addr_parse(ours, n, &back) != PK_PARSE_OK) abort();
    if (family == AF_INET) {
        if (back.sa.sa_family != AF_INET || memcmp(&back.v4.sin_addr, a, 4)) abort();
    } else {
        /* "::1.2.3.4"-style text has a ':' so it parses as IPv6 */
        if (back.sa.sa_family != AF_INET6
            || memcmp(back.v6.sin6_addr.s6_addr, a, 16)) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_sockaddr sa;
    char *text;
    int rc;

    /* the input as binary addresses */
    if (size >= 16) check_format(AF_INET6, data);
    if (size >= 4) check_format(AF_INET, data);

    /* the input as text (exactly size bytes: ASan checks the reads) */
    text = (char *)malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    rc = pk_addr_parse(text, size, &sa);
    if (size < 64 && !memchr(text, '\0', size) && !memchr(text, '%', size)) {
        char z[64];
        unsigned char bin[16];
        int family = memchr(text, ':', size) ? AF_INET6 : AF_INET;
        int libc_ok;
        memcpy(z, text, size);
        z[size] = '\0';
        libc_ok = inet_pton(family, z, bin) == 1;
        if (libc_ok != (rc == PK_PARSE_OK)) abort();
        if (libc_ok) {
            if (sa.sa.sa_family != family) abort();
            if (family == AF_INET ? memcmp(&sa.v4.sin_addr, bin, 4)
                                  : memcmp(sa.v6.sin6_addr.s6_addr, bin, 16))
                abort();
            if (sa.v4.sin_port != 0) abort();
            check_format(family, bin);
        }
    } else if (rc == PK_PARSE_OK) {
        /* a scoped address: IPv6 with a non-zero scope id, whose text (with
         * the interface's name, or its index) parses back the same */
        char scoped[PK_ADDRSTRLEN];
        pk_sockaddr back;
        size_t n;
        if (sa.sa.sa_family != AF_INET6 || sa.v6.sin6_scope_id == 0) abort();
        check_format(AF_INET6, sa.v6.sin6_addr.s6_addr);
        n = pk_format_scoped(sa.v6.sin6_addr.s6_addr, sa.v6.sin6_scope_id, scoped);
        if (n != strlen(scoped) || n >= sizeof scoped) abort();
        if (pk_addr_parse(scoped, n, &back) != PK_PARSE_OK
            || back.v6.sin6_scope_id != sa.v6.sin6_scope_id
            || memcmp(back.v6.sin6_addr.s6_addr, sa.v6.sin6_addr.s6_addr, 16))
            abort();
    }
    if (rc != PK_PARSE_OK && rc != PK_PARSE_BAD && rc != PK_PARSE_NOSCOPE) abort();
    free(text);
    return 0;
}
