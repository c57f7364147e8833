/* Address text <-> binary. The formatter writes exactly what inet_ntop
 * writes (checked against it in spec/c/test_c.c and spec/fuzz/fuzz_addr.c) at a fraction of the
 * cost, because it runs once or twice for every datagram received. */
#include "pk_addr.h"

#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <net/if.h>
#endif

/* Parses a dotted quad exactly as inet_pton does (four decimal numbers
 * 0..255 without leading zeros) into out; returns 1, or 0 for anything
 * else. A fraction of inet_pton's cost, and no copy to terminate the text
 * (spec/fuzz/fuzz_addr.c checks it against inet_pton). */
static int parse_ip4(const char *s, size_t len, unsigned char out[4])
{
    size_t i = 0;
    int part;
    for (part = 0; part < 4; part++) {
        size_t start;
        unsigned v = 0;
        if (part && (i >= len || s[i++] != '.')) return 0;
        start = i;
        while (i < len && i - start < 3 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) return 0;
        out[part] = (unsigned char)v;
    }
    return i == len;
}

/* Parses numeric IPv4 or IPv6 text ("fe80::1%eth0" or "%2" for a scope)
 * into *out with port 0. Never resolves names. */
int pk_addr_parse(const char *text, size_t len, pk_sockaddr *out)
{
    char buf[PK_ADDRSTRLEN];
    const char *pct;

    memset(out, 0, sizeof out->v6);   /* what any address of either family uses */
    if (len == 0 || len >= sizeof buf || memchr(text, '\0', len))
        return PK_PARSE_BAD;
    if (!memchr(text, ':', len)) {
        out->v4.sin_family = AF_INET;
        return parse_ip4(text, len, (unsigned char *)&out->v4.sin_addr)
            ? PK_PARSE_OK : PK_PARSE_BAD;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    out->v6.sin6_family = AF_INET6;
    pct = strchr(buf, '%');
    if (pct) {
        const char *scope = pct + 1;
        buf[pct - buf] = '\0';
        if (*scope == '\0')
            return PK_PARSE_BAD;
        if (strspn(scope, "0123456789") == strlen(scope)) {
            /* digit by digit: strtoul saturates at 2^32 - 1 where long
             * has 32 bits, which would take "%4294967296" */
            uint64_t idx = 0;
            const char *d;
            for (d = scope; *d; d++)
                if ((idx = idx * 10 + (uint64_t)(*d - '0')) > 0xffffffffu)
                    return PK_PARSE_BAD;
            if (idx == 0) return PK_PARSE_BAD;
            out->v6.sin6_scope_id = (uint32_t)idx;
        } else {
            out->v6.sin6_scope_id = if_nametoindex(scope);
            if (out->v6.sin6_scope_id == 0) return PK_PARSE_NOSCOPE;
        }
    }
    return inet_pton(AF_INET6, buf, &out->v6.sin6_addr) == 1
        ? PK_PARSE_OK : PK_PARSE_BAD;
}

/* Writes one byte as decimal; returns the number of characters. */
static size_t put_dec(unsigned v, char *out)
{
    if (v >= 100) {
        out[0] = (char)('0' + v / 100);
        out[1] = (char)('0' + v / 10 % 10);
        out[2] = (char)('0' + v % 10);
        return 3;
    }
    if (v >= 10) {
        out[0] = (char)('0' + v / 10);
        out[1] = (char)('0' + v % 10);
        return 2;
    }
    out[0] = (char)('0' + v);
    return 1;
}

/* Dotted quad; returns its length (the text is NUL-terminated). */
size_t pk_format_ip4(const unsigned char a[4], char *out)
{
    size_t n = 0;
    int i;
    for (i = 0; i < 4; i++) {
        if (i) out[n++] = '.';
        n += put_dec(a[i], out + n);
    }
    out[n] = '\0';
    return n;
}

/* Writes one 16-bit group as lower-case hex without leading zeros. */
static size_t put_hex(unsigned v, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    int shift, started = 0;
    for (shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (v >> shift) & 0xf;
        if (d || started || shift == 0) {
            out[n++] = digits[d];
            started = 1;
        }
    }
    return n;
}

/* IPv6 text as glibc's inet_ntop gives it: the first longest run of two or
 * more zero groups becomes "::", and ::a.b.c.d / ::ffff:a.b.c.d keep the
 * embedded IPv4 in dotted form. Returns the length. */
size_t pk_format_ip6(const unsigned char a[16], char *out)
{
    unsigned w[8];
    int i, best = -1, bestlen = 0, cur = -1, curlen = 0;
    size_t n = 0;

    for (i = 0; i < 8; i++) {
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
        if (w[i] == 0) {
            if (cur < 0) { cur = i; curlen = 0; }
            if (++curlen > bestlen) { best = cur; bestlen = curlen; }
        } else {
            cur = -1;
        }
    }
    if (bestlen < 2) best = -1;
    for (i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + bestlen) {
            if (i == best) out[n++] = ':';
            continue;
        }
        if (i) out[n++] = ':';
        if (i == 6 && best == 0
            && (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff))) {
            n += pk_format_ip4(a + 12, out + n);
            return n;
        }
        n += put_hex(w[i], out + n);
    }
    if (best >= 0 && best + bestlen == 8) out[n++] = ':';
    out[n] = '\0';
    return n;
}

/* IPv6 text with "%name" (or "%index" where the interface has no name)
 * when scope is not 0. */
size_t pk_format_scoped(const unsigned char a[16], uint32_t scope, char *out)
{
    size_t n = pk_format_ip6(a, out);
    char name[IF_NAMESIZE];
    if (scope == 0) return n;
    out[n++] = '%';
    if (if_indextoname(scope, name)) {
        size_t k = strnlen(name, sizeof name - 1);
        memcpy(out + n, name, k);
        n += k;
    } else {
        char digits[10];
        int k = 0;
        do { digits[k++] = (char)('0' + scope % 10); scope /= 10; } while (scope);
        while (k) out[n++] = digits[--k];
    }
    out[n] = '\0';
    return n;
}

/* True for ::ffff:a.b.c.d. */
int pk_ip6_is_v4mapped(const unsigned char a[16])
{
    static const unsigned char prefix[12] =
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, sizeof prefix) == 0;
}

/* True for fe80::/10. */
int pk_ip6_is_linklocal(const unsigned char a[16])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* True for ff00::/8. */
int pk_ip6_is_multicast(const unsigned char a[16])
{
    return a[0] == 0xff;
}

/* True for 224.0.0.0/4. */
int pk_ip4_is_multicast(const unsigned char a[4])
{
    return (a[0] & 0xf0) == 0xe0;
}

/* Turns a v4-mapped IPv6 sockaddr into the plain IPv4 one; returns 1 if it
 * did. */
int pk_addr_unmap(pk_sockaddr *a)
{
    struct sockaddr_in v4;
    if (a->sa.sa_family != AF_INET6
        || !pk_ip6_is_v4mapped(a->v6.sin6_addr.s6_addr))
        return 0;
    memset(&v4, 0, sizeof v4);
    v4.sin_family = AF_INET;
    v4.sin_port = a->v6.sin6_port;
    memcpy(&v4.sin_addr, a->v6.sin6_addr.s6_addr + 12, 4);
    memset(a, 0, sizeof a->v6);
    a->v4 = v4;
    return 1;
}

/* Turns an IPv4 sockaddr into its v4-mapped IPv6 form (for inet6 sockets). */
void pk_addr_map(pk_sockaddr *a)
{
    struct sockaddr_in6 v6;
    if (a->sa.sa_family != AF_INET) return;
    memset(&v6, 0, sizeof v6);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = a->v4.sin_port;
    v6.sin6_addr.s6_addr[10] = 0xff;
    v6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(v6.sin6_addr.s6_addr + 12, &a->v4.sin_addr, 4);
    a->v6 = v6;
}

/* Writes the text of a socket address's IP to out (PK_ADDRSTRLEN bytes):
 * a v4-mapped IPv6 one as IPv4, a scoped IPv6 one with "%scope". Returns
 * its IP family (AF_UNSPEC and "" for any other); *len gets the length. */
int pk_addr_text(const pk_sockaddr *a, char *out, size_t *len)
{
    if (a->sa.sa_family == AF_INET) {
        *len = pk_format_ip4((const unsigned char *)&a->v4.sin_addr, out);
        return AF_INET;
    }
    if (a->sa.sa_family == AF_INET6) {
        const unsigned char *b = a->v6.sin6_addr.s6_addr;
        if (pk_ip6_is_v4mapped(b)) {
            *len = pk_format_ip4(b + 12, out);
            return AF_INET;
        }
        *len = pk_format_scoped(b, a->v6.sin6_scope_id, out);
        return AF_INET6;
    }
    out[0] = '\0';
    *len = 0;
    return AF_UNSPEC;
}
