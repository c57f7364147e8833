/* Receiving: recv and recvmany, and the info tables they fill.
 *
 * Two rules keep Lua code that runs inside these calls (a finalizer at an
 * allocation) from crashing them or mixing datagrams up:
 * - the buffer the kernel writes into is borrowed from the socket for the
 *   whole call and anchored on the call's own stack: while a call holds
 *   it the socket has none, so nothing a finalizer does to the socket
 *   (close it, receive on it) can free or overwrite it;
 * - an info table is filled in two steps: first every string it needs is
 *   pushed (Lua may run here), then every field is set with rawset and
 *   keys from the keys table, which allocates nothing, so no Lua runs
 *   while a table holds part of one datagram and part of another. */
#include "lbinding.h"
#include "pk_addr.h"

#include <string.h>

/* The largest receive buffer a socket keeps between calls; a bigger one
 * (recvmany of many large datagrams) lives for its call only. */
#define PK_KEEP_BUF ((size_t)4 << 20)

/* Optional info fields, as bits of keys[PK_K_WRITTEN]: a reused table can
 * hold only those the module ever wrote in this Lua state, so only those
 * need clearing when a datagram lacks them. */
enum {
    OPT_DST = 1 << 0, OPT_SPEC_DST = 1 << 1, OPT_CTRUNC = 1 << 2,
    OPT_TTL = 1 << 3, OPT_TOS = 1 << 4, OPT_TIME = 1 << 5, OPT_DROPPED = 1 << 6,
    OPT_ORIGDST = 1 << 12
};

/* Takes the socket's receive buffer (user value PK_SLOT_RECVBUF) if it
 * has one of at least size bytes, else makes a new one; pushes it
 * (anchoring it on this call's stack, whatever happens to the socket) and
 * returns its memory. The socket holds no buffer until return_buffer. */
static unsigned char *borrow_buffer(lua_State *L, size_t size)
{
    void *b;
    if (size == 0) size = 1;
    if (pk_getuv(L, 1, PK_SLOT_RECVBUF) == LUA_TUSERDATA
        && (size_t)pk_rawlen(L, -1) >= size) {
        b = lua_touserdata(L, -1);
    } else {
        lua_pop(L, 1);
#if LUA_VERSION_NUM >= 504
        b = lua_newuserdatauv(L, size, 0);
#else
        b = lua_newuserdata(L, size);
#endif
    }
    lua_pushnil(L);
    pk_setuv(L, 1, PK_SLOT_RECVBUF);
    return (unsigned char *)b;
}

/* Gives the buffer at idx back to socket s for its next call, unless the
 * socket was closed meanwhile, got another buffer, or this one is too big
 * to keep. */
static void return_buffer(lua_State *L, const pk_sock *s, int idx)
{
    if (s->fd == PK_NO_SOCKET || (size_t)pk_rawlen(L, idx) > PK_KEEP_BUF) return;
    if (pk_getuv(L, 1, PK_SLOT_RECVBUF) == LUA_TNIL) {
        lua_pushvalue(L, idx);
        pk_setuv(L, 1, PK_SLOT_RECVBUF);
    }
    lua_pop(L, 1);
}

/* t[key k] = the value at stack index v (raw; allocates nothing). */
static void put(lua_State *L, int t, int k, int v)
{
    lua_rawgeti(L, PK_UV_KEYS, k);
    lua_pushvalue(L, v);
    lua_rawset(L, t);
}

/* t[key k] = integer i. */
static void put_int(lua_State *L, int t, int k, lua_Integer i)
{
    lua_rawgeti(L, PK_UV_KEYS, k);
    lua_pushinteger(L, i);
    lua_rawset(L, t);
}

/* t[key k] = nil when the module ever wrote that kind of field (bit). */
static void put_nil(lua_State *L, int t, int k, unsigned written, unsigned bit)
{
    if (!(written & bit)) return;
    lua_rawgeti(L, PK_UV_KEYS, k);
    lua_pushnil(L);
    lua_rawset(L, t);
}

/* Pushes the text of an address (4 or 16 bytes; scope 0, or the
 * interface of a link-local IPv6 one): the socket's own copy when text i
 * it keeps is of the same address, else a new string, which it then keeps
 * unless scoped (a scoped text names an interface, which can be renamed).
 * Nothing runs between the comparison and the push of the copy. */
static void push_text(lua_State *L, pk_lsock *ls, int i, int family,
                      const unsigned char *ip, uint32_t scope)
{
    pk_textkey *k = &ls->text[i];
    size_t n = family == AF_INET ? 4 : 16;
    char text[PK_ADDRSTRLEN];
    if (!scope && k->family == family && memcmp(k->addr, ip, n) == 0) {
        pk_getuv(L, 1, PK_SLOT_TEXT + i);
        return;
    }
    k->family = 0;
    if (family == AF_INET) lua_pushlstring(L, text, pk_format_ip4(ip, text));
    else lua_pushlstring(L, text, pk_format_scoped(ip, scope, text));
    if (scope) return;
    lua_pushvalue(L, -1);
    pk_setuv(L, 1, PK_SLOT_TEXT + i);
    k->family = family;
    memcpy(k->addr, ip, n);
}

/* Pushes the text of the sender's address (v4-mapped as IPv4) and returns
 * its IP family ("" and AF_UNSPEC for none). */
static int push_from(lua_State *L, pk_lsock *ls, const pk_sockaddr *a)
{
    if (a->sa.sa_family == AF_INET) {
        push_text(L, ls, 0, AF_INET, (const unsigned char *)&a->v4.sin_addr, 0);
        return AF_INET;
    }
    if (a->sa.sa_family == AF_INET6) {
        const unsigned char *b = a->v6.sin6_addr.s6_addr;
        if (pk_ip6_is_v4mapped(b)) {
            push_text(L, ls, 0, AF_INET, b + 12, 0);
            return AF_INET;
        }
        push_text(L, ls, 0, AF_INET6, b, a->v6.sin6_scope_id);
        return AF_INET6;
    }
    lua_pushliteral(L, "");
    return AF_UNSPEC;
}

/* Marks the optional fields d has in keys[PK_K_WRITTEN]; returns the mask
 * as it is now. */
static unsigned note_written(lua_State *L, const pk_datagram *d)
{
    const pk_recvinfo *in = &d->info;
    unsigned have = 0, written;
    if (in->has & PK_HAS_DST) have |= OPT_DST;
    if (in->has & PK_HAS_SPEC_DST) have |= OPT_SPEC_DST;
    if (d->ctruncated) have |= OPT_CTRUNC;
    if (in->has & PK_HAS_TTL) have |= OPT_TTL;
    if (in->has & PK_HAS_TOS) have |= OPT_TOS;
    if (in->has & PK_HAS_TIME) have |= OPT_TIME;
    if (in->has & PK_HAS_DROPPED) have |= OPT_DROPPED;
    if (in->has & PK_HAS_ORIGDST) have |= OPT_ORIGDST;
    lua_rawgeti(L, PK_UV_KEYS, PK_K_WRITTEN);
    written = (unsigned)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if ((written | have) != written) {
        written |= have;
        lua_pushinteger(L, (lua_Integer)written);
        lua_rawseti(L, PK_UV_KEYS, PK_K_WRITTEN);
    }
    return written;
}

/* Sets the fields of the extra options (ttl, tos, ecn, time, dropped). */
static void put_extras(lua_State *L, int t, const pk_recvinfo *in,
                       unsigned clear)
{
    if (in->has & PK_HAS_TTL) put_int(L, t, PK_K_TTL, in->ttl);
    else put_nil(L, t, PK_K_TTL, clear, OPT_TTL);
    if (in->has & PK_HAS_TOS) {
        put_int(L, t, PK_K_TOS, in->tos);
        put_int(L, t, PK_K_ECN, in->tos & 3);
    } else {
        put_nil(L, t, PK_K_TOS, clear, OPT_TOS);
        put_nil(L, t, PK_K_ECN, clear, OPT_TOS);
    }
    if (in->has & PK_HAS_TIME) {
        lua_rawgeti(L, PK_UV_KEYS, PK_K_TIME);
        lua_pushnumber(L, (lua_Number)in->sec + (lua_Number)in->nsec * 1e-9);
        lua_rawset(L, t);
    } else {
        put_nil(L, t, PK_K_TIME, clear, OPT_TIME);
    }
    if (in->has & PK_HAS_DROPPED) put_int(L, t, PK_K_DROPPED, in->dropped);
    else put_nil(L, t, PK_K_DROPPED, clear, OPT_DROPPED);
}

/* Option recvorigdst: pushes the text of the original destination and
 * returns its stack index (0: the datagram has none). */
static int push_orig(lua_State *L, const pk_recvinfo *in)
{
    char text[PK_ADDRSTRLEN];
    if (!(in->has & PK_HAS_ORIGDST)) return 0;
    if (in->orig_family == AF_INET) lua_pushlstring(L, text, pk_format_ip4(in->orig, text));
    else lua_pushlstring(L, text, pk_format_ip6(in->orig, text));
    return lua_gettop(L);
}

/* Sets orig_dst (the string at index orig, 0: none) and orig_port. */
static void put_orig(lua_State *L, int t, const pk_recvinfo *in, int orig,
                     unsigned clear)
{
    if (orig) {
        put(L, t, PK_K_ORIG_DST, orig);
        put_int(L, t, PK_K_ORIG_PORT, in->orig_port);
    } else {
        put_nil(L, t, PK_K_ORIG_DST, clear, OPT_ORIGDST);
        put_nil(L, t, PK_K_ORIG_PORT, clear, OPT_ORIGDST);
    }
}

/* Fills the info table at t (absolute index) for datagram d, and t.data
 * with the string at data (0: none). With reuse, fields an earlier
 * datagram left that do not apply to d are removed. */
static void fill_info(lua_State *L, pk_lsock *ls, int t, const pk_datagram *d,
                      int reuse, int data)
{
    const pk_recvinfo *in = &d->info;
    int from = lua_gettop(L) + 1, addr = from + 1, spec = from + 2, fam, orig;
    unsigned written, clear;

    /* 1: the strings (Lua may run at each push) */
    fam = push_from(L, ls, &d->from);
    if (in->has & PK_HAS_DST)
        push_text(L, ls, 1, in->dst_family, in->dst,
                  in->dst_family == AF_INET6 && pk_ip6_is_linklocal(in->dst)
                  ? in->ifindex : 0);
    if (in->has & PK_HAS_SPEC_DST) push_text(L, ls, 2, AF_INET, in->spec_dst, 0);
    orig = push_orig(L, in);
    /* 2: the fields (no Lua runs from here on) */
    written = note_written(L, d);
    clear = reuse ? written : 0;
    if (data) put(L, t, PK_K_DATA, data);
    put(L, t, PK_K_FROM, from);
    put_int(L, t, PK_K_PORT, ntohs(d->from.v4.sin_port));  /* same offset in v6 */
    lua_rawgeti(L, PK_UV_KEYS, PK_K_FAMILY);
    lua_rawgeti(L, PK_UV_KEYS, fam == AF_INET6 ? PK_K_INET6 : PK_K_INET);
    lua_rawset(L, t);
    lua_rawgeti(L, PK_UV_KEYS, PK_K_TRUNCATED);
    lua_pushboolean(L, d->truncated);
    lua_rawset(L, t);
    if (d->ctruncated) {
        lua_rawgeti(L, PK_UV_KEYS, PK_K_CTRUNCATED);
        lua_pushboolean(L, 1);
        lua_rawset(L, t);
    } else {
        put_nil(L, t, PK_K_CTRUNCATED, clear, OPT_CTRUNC);
    }
    if (in->has & PK_HAS_DST) {
        put(L, t, PK_K_ADDR, addr);
        put_int(L, t, PK_K_IFINDEX, in->ifindex);
    } else {
        put_nil(L, t, PK_K_ADDR, clear, OPT_DST);
        put_nil(L, t, PK_K_IFINDEX, clear, OPT_DST);
    }
    if (in->has & PK_HAS_SPEC_DST) put(L, t, PK_K_SPEC_DST, spec);
    else put_nil(L, t, PK_K_SPEC_DST, clear, OPT_SPEC_DST);
    put_extras(L, t, in, clear);
    put_orig(L, t, in, orig, clear);
    lua_settop(L, from - 1);
}

/* The size argument at arg (default 65535). */
static size_t check_size(lua_State *L, int arg)
{
    lua_Integer size = lua_isnoneornil(L, arg) ? 65535 : pk_checkinteger(L, arg);
    luaL_argcheck(L, size >= 0 && size <= PK_MAX_RECV, arg,
                  "size out of range 0..1048576");
    return (size_t)size;
}

/* sock:recv([size [, into]]) -> data, info | nil, err, errname */
int pk_m_recv(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_lsock *ls = (pk_lsock *)s;
    size_t size = check_size(L, 2);
    int into = !lua_isnoneornil(L, 3), err;
    pk_datagram d;

    if (into) luaL_checktype(L, 3, LUA_TTABLE);
    if (s->off.gro || s->off.pend.left) return pk_gro_recv(L, size, into);
    lua_settop(L, 3);
    d.data = borrow_buffer(L, size);              /* 4 */
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    d.cap = size;
    err = pk_sock_recv(s, &d);
    s->poll_deadline = 0;
    if (err) {
        return_buffer(L, s, 4);
        return pk_push_error(L, err);
    }
    lua_pushlstring(L, (const char *)d.data, d.len);  /* 5 */
    if (into) lua_pushvalue(L, 3);
    else lua_createtable(L, 0, 8);                     /* 6 */
    fill_info(L, ls, 6, &d, into, 0);
    return_buffer(L, s, 4);
    return 2;
}

/* sock:recvmany(n [, size [, into]]) -> list | nil, err, errname. Each
 * datagram is an info table with data; with into, that list and the
 * tables in it are refilled (and the list cut to the count received). */
int pk_m_recvmany(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_lsock *ls = (pk_lsock *)s;
    lua_Integer n = pk_checkinteger(L, 2);
    size_t size = check_size(L, 3), head, i, got;
    int into = !lua_isnoneornil(L, 4), err;
    pk_datagram *d;

    luaL_argcheck(L, n >= 1 && n <= PK_MAX_BATCH, 2, "count out of range 1..1024");
    luaL_argcheck(L, (size_t)n * size <= (size_t)64 << 20, 3, "count * size over 64 MiB");
    if (into) luaL_checktype(L, 4, LUA_TTABLE);
    if (s->off.gro || s->off.pend.left) return pk_gro_recvmany(L, (size_t)n, size, into);
    lua_settop(L, 4);
    /* n datagram records, then n slots of size bytes, in one buffer */
    head = (size_t)n * sizeof *d;
    d = (pk_datagram *)(void *)borrow_buffer(L, head + (size_t)n * size);  /* 5 */
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    for (i = 0; i < (size_t)n; i++) {
        d[i].data = (unsigned char *)d + head + i * size;
        d[i].cap = size;
    }
    err = pk_sock_recvmany(s, d, (size_t)n, &got);
    s->poll_deadline = 0;
    if (err) {
        return_buffer(L, s, 5);
        return pk_push_error(L, err);
    }
    if (into) lua_pushvalue(L, 4);
    else lua_createtable(L, (int)got, 0);              /* 6: the list */
    for (i = 0; i < got; i++) {
        int reuse = 0;
        if (into) {
            lua_rawgeti(L, 6, (lua_Integer)i + 1);
            reuse = lua_type(L, -1) == LUA_TTABLE;
            if (!reuse) lua_pop(L, 1);
        }
        if (!reuse) lua_createtable(L, 0, 8);          /* 7: the message */
        lua_pushlstring(L, (const char *)d[i].data, d[i].len);  /* 8 */
        fill_info(L, ls, 7, &d[i], reuse, 8);
        lua_pop(L, 1);
        if (!reuse) lua_rawseti(L, 6, (lua_Integer)i + 1);
        else lua_pop(L, 1);
    }
    for (i = into ? (size_t)pk_rawlen(L, 6) : 0; i > got; i--) {
        lua_pushnil(L);
        lua_rawseti(L, 6, (lua_Integer)i);
    }
    return_buffer(L, s, 5);
    lua_settop(L, 6);
    return 1;
}

/* fill_info for lgro.c, which cuts coalesced buffers into datagrams. */
void pk_fill_info(lua_State *L, pk_lsock *ls, int t, const pk_datagram *d,
                  int reuse, int data)
{
    fill_info(L, ls, t, d, reuse, data);
}
