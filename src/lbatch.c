/* The batch methods recvmany and sendmany: thin Lua wrappers over
 * pk_sock_recvmany / pk_sock_sendmany (pk_batch.c). Both use the socket's
 * receive buffer as scratch, so a call allocates nothing in C and nothing
 * leaks when a Lua error is raised half-way. */
#include "lbinding.h"

#include <string.h>

/* Largest datagram count of one call (Linux's UIO_MAXIOV). */
#define PK_MAX_BATCH 1024
/* Largest receive area of one call, n * size. */
#define PK_MAX_AREA ((lua_Integer)64 << 20)

/* Fills the list at index list with got info tables for d[], reusing the
 * tables already there when reuse is set (and cutting the list to got). */
static void push_batch(lua_State *L, int list, const pk_datagram *d,
                       size_t got, int reuse)
{
    int base = pk_info_begin(L), data_key = base + PK_K_DATA - 1;
    size_t i, len;
    for (i = 0; i < got; i++) {
        int fresh = 1;
        if (reuse) {
            lua_rawgeti(L, list, (lua_Integer)i + 1);
            fresh = lua_type(L, -1) != LUA_TTABLE;
            if (fresh) lua_pop(L, 1);
        }
        if (fresh) lua_createtable(L, 0, 8);
        pk_push_info_at(L, base, lua_gettop(L), &d[i], !fresh);
        lua_pushvalue(L, data_key);
        lua_pushlstring(L, (const char *)d[i].data, d[i].len);
        lua_rawset(L, -3);
        if (fresh) lua_rawseti(L, list, (lua_Integer)i + 1);
        else lua_pop(L, 1);
    }
    for (len = (size_t)pk_rawlen(L, list); reuse && len > got; len--) {
        lua_pushnil(L);
        lua_rawseti(L, list, (lua_Integer)len);
    }
    lua_settop(L, base - 1);
}

/* sock:recvmany(n [, size [, into]]) -> list | nil, err, errname. With
 * into, the list and its tables are reused (like recv's into) and
 * returned, so a loop allocates nothing but the data strings. */
int pk_m_recvmany(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    lua_Integer n = pk_checkinteger(L, 2), size;
    pk_datagram *d;
    unsigned char *data;
    size_t i, got, head;
    int err, into;

    size = lua_isnoneornil(L, 3) ? 65535 : pk_checkinteger(L, 3);
    luaL_argcheck(L, n >= 1 && n <= PK_MAX_BATCH, 2, "count out of range 1..1024");
    luaL_argcheck(L, size >= 0 && size <= PK_MAX_RECV, 3,
                  "size out of range 0..1048576");
    luaL_argcheck(L, n * size <= PK_MAX_AREA, 3, "count * size over 64 MiB");
    into = !lua_isnoneornil(L, 4);
    if (into) luaL_checktype(L, 4, LUA_TTABLE);
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    /* The datagram records, then n slots of size bytes, in s->buf. */
    head = (size_t)n * sizeof *d;
    if ((err = pk_sock_reserve(s, head + (size_t)(n * size))))
        return pk_push_error(L, err);
    d = (pk_datagram *)(void *)s->buf;
    data = s->buf + head;
    for (i = 0; i < (size_t)n; i++) {
        d[i].data = data + i * (size_t)size;
        d[i].cap = (size_t)size;
    }
    if ((err = pk_sock_recvmany(s, d, (size_t)n, &got)))
        return pk_push_error(L, err);
    lua_settop(L, 4);
    if (into) lua_pushvalue(L, 4);
    else lua_createtable(L, (int)got, 0);
    push_batch(L, 5, d, got, into);
    return 1;
}

/* Reads list item (at stack index item) into *o: data, to (default from),
 * port, and the source fields encoded as control messages. Raises on a
 * malformed item. */
static void read_item(lua_State *L, const pk_sock *s, int item, pk_outmsg *o)
{
    pk_target to;
    pk_sendsrc src;
    long clen;

    if (pk_get_field(L, item, PK_K_DATA) != LUA_TSTRING)
        luaL_argerror(L, 2, "item.data: string expected");
    o->data = lua_tolstring(L, -1, &o->len);  /* anchored by the item */
    lua_pop(L, 1);
    if (pk_get_field(L, item, PK_K_TO) != LUA_TNIL) {
        pk_check_field_target(L, lua_gettop(L), 2, "item.to", s, &to);
    } else {
        lua_pop(L, 1);
        pk_get_field(L, item, PK_K_FROM);
        pk_check_field_target(L, lua_gettop(L), 2, "item.to (or from)", s, &to);
    }
    lua_pop(L, 1);
    to.sa.v4.sin_port = htons(pk_field_port(L, item, 2, "item.port"));  /* same offset in v6 */
    o->to = to.sa;
    pk_read_source(L, item, 2, to.ip_family, &src);
    clen = pk_cmsg_encode(&o->control, sizeof o->control, to.ip_family, &src);
    if (clen < 0) luaL_argerror(L, 2, "item: source does not fit the destination");
    o->controllen = (size_t)clen;
}

/* sock:sendmany(list) -> count | count, err, errname (some sent) |
 * nil, err, errname (none sent). Every item is read before anything is
 * sent, so a malformed item raises with nothing sent. */
int pk_m_sendmany(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_outmsg *m;
    size_t i, n, sent;
    int err;

    luaL_checktype(L, 2, LUA_TTABLE);
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    n = (size_t)pk_rawlen(L, 2);
    if (n == 0) { lua_pushinteger(L, 0); return 1; }
    if (n > ((size_t)-1) / sizeof *m) return pk_push_error(L, ENOMEM);
    if ((err = pk_sock_reserve(s, n * sizeof *m))) return pk_push_error(L, err);
    m = (pk_outmsg *)(void *)s->buf;
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_argerror(L, 2, lua_pushfstring(L, "item %d: table expected, got %s",
                          (int)i + 1, luaL_typename(L, -1)));
        read_item(L, s, lua_gettop(L), &m[i]);
        lua_pop(L, 1);
    }
    err = pk_sock_sendmany(s, m, n, &sent);
    if (!err) { lua_pushinteger(L, (lua_Integer)sent); return 1; }
    pk_push_error(L, err);
    if (sent == 0) return 3;
    lua_pushinteger(L, (lua_Integer)sent);
    lua_replace(L, -4);
    return 3;
}
