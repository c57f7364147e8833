/* Shared by the three binding files (lpktinfo.c, lsocket.c, linfo.c), the
 * only files that include lua.h. */
#ifndef PK_LBINDING_H
#define PK_LBINDING_H

#include "compat.h"
#include "pk_sock.h"

/* Every function of the module has two upvalues: the socket metatable
 * (a cheap identity check for self) and an array of pre-made strings. */
#define PK_UV_META lua_upvalueindex(1)
#define PK_UV_KEYS lua_upvalueindex(2)
/* The methods that read or fill tables (recv, recvmany, sendto, reply,
 * sendmany: lsocket.c) also have key string k as upvalue 2 + k. */
#define PK_UV_KEY(k) lua_upvalueindex(2 + (k))

/* Largest recv size accepted (bigger than any IP datagram). */
#define PK_MAX_RECV (1 << 20)

/* Indexes into the pre-made strings. */
enum {
    PK_K_FROM = 1, PK_K_PORT, PK_K_FAMILY, PK_K_ADDR, PK_K_IFINDEX,
    PK_K_SPEC_DST, PK_K_TRUNCATED, PK_K_CTRUNCATED, PK_K_TTL, PK_K_TOS,
    PK_K_ECN, PK_K_TIME, PK_K_DROPPED, PK_K_DATA, PK_K_TO, PK_K_INET,
    PK_K_INET6, PK_K_COUNT_
};

/* Everything a function needs to know about the address in one argument. */
typedef struct pk_target {
    pk_sockaddr sa;              /* in the socket's family (mapped if need be) */
    int ip_family;               /* AF_INET or AF_INET6: what the text was */
} pk_target;

pk_sock *pk_check_sock(lua_State *L);
int pk_push_error(lua_State *L, int err);
int pk_push_closed(lua_State *L);
void pk_push_sockaddr(lua_State *L, const pk_sockaddr *a);
void pk_push_info(lua_State *L, int t, const pk_datagram *d, int clear);
/* For batches: pk_info_begin pushes PK_INFO_SLOTS values (every key, the
 * cached address texts and their cache) and returns the first one's index,
 * which pk_push_info_at then reads instead of the keys upvalue. */
#define PK_INFO_SLOTS (PK_K_COUNT_ - 1 + 3 + 1)
int pk_info_begin(lua_State *L);
void pk_push_info_at(lua_State *L, int base, int t, const pk_datagram *d,
                     int clear);
void pk_check_target(lua_State *L, int arg, const pk_sock *s, int wildcard,
                     pk_target *out);
uint16_t pk_check_port(lua_State *L, int arg);
uint32_t pk_check_iface(lua_State *L, int arg);
const char *pk_check_name(lua_State *L, int arg);
int pk_get_field(lua_State *L, int t, int k);
uint16_t pk_field_port(lua_State *L, int t, int arg, const char *field);
void pk_read_source(lua_State *L, int idx, int arg, int dst_family,
                    pk_sendsrc *src);
int pk_open_methods(lua_State *L);
/* lbatch.c: the batch methods, and linfo.c's address reader for a table
 * field (errors name the argument and the field). */
int pk_m_recvmany(lua_State *L);
int pk_m_sendmany(lua_State *L);
void pk_check_field_target(lua_State *L, int idx, int arg, const char *field,
                           const pk_sock *s, pk_target *out);

#endif
