/* Address text <-> binary, without lua_State. */
#ifndef PK_ADDR_H
#define PK_ADDR_H

#include "pk_platform.h"

/* Longest text pk_addr_format can write: IPv6, '%', interface name, NUL. */
#define PK_ADDRSTRLEN (46 + 1 + 16 + 1)

/* Results of pk_addr_parse. */
enum { PK_PARSE_OK = 0, PK_PARSE_BAD = -1, PK_PARSE_NOSCOPE = -2 };

int pk_addr_parse(const char *text, size_t len, pk_sockaddr *out);
size_t pk_format_ip4(const unsigned char a[4], char *out);
size_t pk_format_ip6(const unsigned char a[16], char *out);
size_t pk_format_scoped(const unsigned char a[16], uint32_t scope, char *out);
int pk_addr_unmap(pk_sockaddr *a);
void pk_addr_map(pk_sockaddr *a);
int pk_addr_text(const pk_sockaddr *a, char *out, size_t *len);
int pk_ip6_is_v4mapped(const unsigned char a[16]);
int pk_ip6_is_linklocal(const unsigned char a[16]);
int pk_ip6_is_multicast(const unsigned char a[16]);
int pk_ip4_is_multicast(const unsigned char a[4]);

#endif
