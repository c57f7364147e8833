/* Shared by the binding files (lpktinfo.c, lsocket.c, lrecv.c, lsend.c,
 * largs.c), the only files that include lua.h.
 *
 * The rule every method follows (README, "Lua code that runs inside a
 * call"): Lua code can run at any allocation (a finalizer) and at any read
 * of a caller's table (a metamethod), and it may close this socket or use
 * it. So a method first reads its arguments into C locals, then checks
 * that the socket is still open, then makes the system call, then pushes
 * results from C locals or from a buffer it alone holds. Nothing read
 * before a point where Lua can run is trusted after it unless it lives in
 * the method's own C locals or on its own Lua stack. */
#ifndef PK_LBINDING_H
#define PK_LBINDING_H

#include "pk_sock.h"
#include "compat.h"

/* Every function of the module has two upvalues: the socket metatable (a
 * cheap identity check for self) and the table of key strings. */
#define PK_UV_META lua_upvalueindex(1)
#define PK_UV_KEYS lua_upvalueindex(2)

/* The per-socket Lua values (compat.h: pk_getuv/pk_setuv). */
enum {
    PK_SLOT_OBJECT = 1,          /* the object wrap() adopted, kept alive */
    PK_SLOT_RECVBUF = 2,         /* the receive buffer (lrecv.c) */
    PK_SLOT_TEXT = 3             /* PK_TEXTS address texts (lrecv.c) */
};
#define PK_TEXTS 3               /* sender, destination, spec_dst */
/* The buffer holding datagrams a coalesced (UDP_GRO) receive left for
 * the next call (lgro.c), after the texts. */
#define PK_SLOT_PENDING (PK_SLOT_TEXT + PK_TEXTS)

/* An address whose text a socket keeps (lrecv.c): family 0 for none. */
typedef struct pk_textkey {
    int family;
    unsigned char addr[16];
} pk_textkey;

/* The socket userdata: the plain-C socket and what the binding keeps
 * beside it (lrecv.c): text[i] is the address whose text is in slot
 * PK_SLOT_TEXT + i. */
typedef struct pk_lsock {
    pk_sock sock;                /* first: a pk_lsock * is a pk_sock * */
    pk_textkey text[PK_TEXTS];
} pk_lsock;

/* Largest recv size accepted (bigger than any IP datagram). */
#define PK_MAX_RECV (1 << 20)
/* Most datagrams of one recvmany or sendmany (Linux's UIO_MAXIOV). */
#define PK_MAX_BATCH 1024

/* The key strings, at these indexes of the keys table. */
enum {
    PK_K_FROM = 1, PK_K_PORT, PK_K_FAMILY, PK_K_ADDR, PK_K_IFINDEX,
    PK_K_SPEC_DST, PK_K_TRUNCATED, PK_K_CTRUNCATED, PK_K_TTL, PK_K_TOS,
    PK_K_ECN, PK_K_TIME, PK_K_DROPPED, PK_K_DATA, PK_K_INET, PK_K_INET6,
    PK_K_TO, PK_K_OUT, PK_K_ORIG_DST, PK_K_ORIG_PORT, PK_K_COUNT_
};
/* keys[PK_K_WRITTEN]: which optional info fields the module has ever
 * written in this Lua state (lrecv.c), an integer. */
#define PK_K_WRITTEN PK_K_COUNT_

/* Where a value being read came from, for error messages: argument arg,
 * and for a sendmany item its number (0: none). */
typedef struct pk_where {
    int arg;
    int item;
} pk_where;

/* An address argument, parsed. */
typedef struct pk_target {
    pk_sockaddr sa;              /* in the socket's family (mapped if need be) */
    int ip_family;               /* AF_INET or AF_INET6: what the text was */
} pk_target;

/* lsocket.c */
pk_sock *pk_check_sock(lua_State *L);
int pk_push_error(lua_State *L, int err);
int pk_push_closed(lua_State *L);
int pk_open_methods(lua_State *L);

/* Flags of pk_parse_target. */
enum { PK_T_WILDCARD = 1, PK_T_NOSCOPE = 2 };

/* largs.c: arguments. Each raises naming the argument (and the field). */
int pk_parse_target(lua_State *L, int idx, const pk_where *w,
                    const char *field, const pk_sock *s, int flags,
                    pk_target *out);
int pk_check_target(lua_State *L, int arg, const pk_sock *s, int flags,
                    pk_target *out);
uint16_t pk_check_port(lua_State *L, int arg);
int pk_check_iface(lua_State *L, int arg, uint32_t *ifindex);
const char *pk_check_name(lua_State *L, int arg);
int pk_field_ip(lua_State *L, const pk_where *w, const char *field,
                unsigned char *bytes);
lua_Integer pk_field_int(lua_State *L, const pk_where *w, const char *field,
                         lua_Integer lo, lua_Integer hi);
int pk_field_error(lua_State *L, const pk_where *w, const char *field,
                   const char *what);
void pk_push_sockaddr(lua_State *L, const pk_sockaddr *a);

/* liface.c: interfaces(), ifname(), ifindex() into the module table on top. */
void pk_open_iface(lua_State *L);

/* lrecv.c and lsend.c: the methods that move datagrams. */
int pk_m_recv(lua_State *L);
int pk_m_recvmany(lua_State *L);
int pk_m_sendto(lua_State *L);
int pk_m_reply(lua_State *L);
int pk_m_sendmany(lua_State *L);

/* lgw.c and lsend.c: the gateway methods (README, "Gateways"), and the
 * values of the gateway options for setoption, getoption (lsocket.c) and
 * opts (lpktinfo.c): kinds PK_OPTK_U32 and after. */
int pk_m_setpeername(lua_State *L);
int pk_m_getpeername(lua_State *L);
int pk_m_send(lua_State *L);
int pk_m_setsockopt(lua_State *L);
int pk_m_getsockopt(lua_State *L);
int pk_m_recverr(lua_State *L);
int pk_gw_setoption(lua_State *L, pk_sock *s, const pk_option *o);
int pk_gw_getoption(lua_State *L, pk_sock *s, const pk_option *o);
int pk_gw_apply_opt(lua_State *L, int arg, pk_sock *s, const pk_option *o);

/* lrecv.c: fills the info table at t for datagram d (see there); lgro.c:
 * recv and recvmany on a socket with option gro or datagrams it kept. */
void pk_fill_info(lua_State *L, pk_lsock *ls, int t, const pk_datagram *d,
                  int reuse, int data);
int pk_gro_recv(lua_State *L, size_t size, int into);
int pk_gro_recvmany(lua_State *L, size_t n, size_t size, int into);

#endif
