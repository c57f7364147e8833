/* The socket methods: thin Lua wrappers over pk_sock_*. */
#include "lbinding.h"
#include "pk_addr.h"

#include <string.h>


/* self, checked by comparing its metatable with the module's (no registry
 * lookup on the hot path). */
pk_sock *pk_check_sock(lua_State *L)
{
    pk_sock *s = (pk_sock *)lua_touserdata(L, 1);
    if (!s || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, PK_UV_META)) {
        pk_typeerror(L, 1, "pktinfo socket");
        return NULL;
    }
    lua_pop(L, 1);
    return s;
}

/* nil, message, errname for an OS error ("timeout" for ETIMEDOUT). */
int pk_push_error(lua_State *L, int err)
{
    char msg[128];
    lua_pushnil(L);
    if (err == ETIMEDOUT) lua_pushliteral(L, "timeout");
    else lua_pushstring(L, pk_errmsg(err, msg, sizeof msg));
    lua_pushstring(L, pk_errname(err));
    return 3;
}

/* nil, "closed", "EBADF". */
int pk_push_closed(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    lua_pushliteral(L, "EBADF");
    return 3;
}

/* true, or the error triple. */
static int push_result(lua_State *L, int err)
{
    if (err) return pk_push_error(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

#define CHECK_OPEN(L, s) \
    pk_sock *s = pk_check_sock(L); \
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L)

/* sock:bind(addr, port) */
static int m_bind(lua_State *L)
{
    pk_target t;
    uint16_t port;
    CHECK_OPEN(L, s);
    pk_check_target(L, 2, s, 1, &t);
    port = pk_check_port(L, 3);
    t.sa.v4.sin_port = htons(port);   /* same offset in sockaddr_in6 */
    return push_result(L, pk_sock_bind(s, &t.sa));
}

/* sock:getsockname() -> addr, port, family */
static int m_getsockname(lua_State *L)
{
    pk_sockaddr a;
    int err;
    CHECK_OPEN(L, s);
    if ((err = pk_sock_name(s, &a))) return pk_push_error(L, err);
    pk_push_sockaddr(L, &a);
    return 3;
}

/* sock:setpktinfo(on) */
static int m_setpktinfo(lua_State *L)
{
    CHECK_OPEN(L, s);
    luaL_checkany(L, 2);
    return push_result(L, pk_sock_set_pktinfo(s, lua_toboolean(L, 2)));
}

/* sock:getpktinfo() -> boolean, read from the kernel */
static int m_getpktinfo(lua_State *L)
{
    int on, err;
    CHECK_OPEN(L, s);
    if ((err = pk_sock_get_pktinfo(s, &on))) return pk_push_error(L, err);
    lua_pushboolean(L, on);
    return 1;
}

/* sock:recv([size [, into]]) -> data, info */
static int m_recv(lua_State *L)
{
    pk_datagram d;
    lua_Integer size;
    int err, into;
    CHECK_OPEN(L, s);
    size = lua_isnoneornil(L, 2) ? 65535 : pk_checkinteger(L, 2);
    luaL_argcheck(L, size >= 0 && size <= PK_MAX_RECV, 2,
                  "size out of range 0..1048576");
    into = !lua_isnoneornil(L, 3);
    if (into) luaL_checktype(L, 3, LUA_TTABLE);
    if ((err = pk_sock_reserve(s, (size_t)size))) return pk_push_error(L, err);
    d.data = s->buf;
    d.cap = (size_t)size;
    if ((err = pk_sock_recv(s, &d))) return pk_push_error(L, err);
    lua_pushlstring(L, (const char *)d.data, d.len);
    if (into) lua_pushvalue(L, 3);
    else lua_createtable(L, 0, 8);
    pk_push_info(L, lua_gettop(L), &d, into);
    return 2;
}

/* Sends data to `to` from the source table at src_idx (0: none). */
static int send_from(lua_State *L, pk_sock *s, const char *data, size_t len,
                     pk_target *to, int src_idx)
{
    pk_cmsgbuf control;
    long clen = 0;
    size_t sent;
    int err;
    if (src_idx) {
        pk_sendsrc src;
        pk_read_source(L, src_idx, src_idx, to->ip_family, &src);
        clen = pk_cmsg_encode(&control, sizeof control, to->ip_family, &src);
        if (clen < 0) luaL_argerror(L, src_idx, "source does not fit the destination");
    }
    if ((err = pk_sock_send(s, data, len, &to->sa, &control, (size_t)clen, &sent)))
        return pk_push_error(L, err);
    lua_pushinteger(L, (lua_Integer)sent);
    return 1;
}

/* sock:sendto(data, addr, port [, src]) -> bytes */
static int m_sendto(lua_State *L)
{
    pk_target to;
    size_t len;
    const char *data;
    uint16_t port;
    CHECK_OPEN(L, s);
    data = luaL_checklstring(L, 2, &len);
    pk_check_target(L, 3, s, 0, &to);
    port = pk_check_port(L, 4);
    to.sa.v4.sin_port = htons(port);
    if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
    return send_from(L, s, data, len, &to, lua_isnoneornil(L, 5) ? 0 : 5);
}

/* sock:reply(data, info) -> bytes: sendto(data, info.from, info.port, info) */
static int m_reply(lua_State *L)
{
    pk_target to;
    size_t len;
    const char *data;
    CHECK_OPEN(L, s);
    data = luaL_checklstring(L, 2, &len);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (pk_get_field(L, 3, PK_K_FROM) != LUA_TSTRING)
        luaL_argerror(L, 3, "info.from: address text expected");
    pk_check_field_target(L, lua_gettop(L), 3, "info.from", s, &to);
    lua_pop(L, 1);
    to.sa.v4.sin_port = htons(pk_field_port(L, 3, 3, "info.port"));
    return send_from(L, s, data, len, &to, 3);
}

/* The option named at arg, or a raised error. */
static const pk_option *check_option(lua_State *L, int arg)
{
    const char *name = pk_check_name(L, arg);
    const pk_option *o = pk_option_find(name);
    if (!o) luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'", name));
    return o;
}

/* sock:setoption(name, value) */
static int m_setoption(lua_State *L)
{
    const pk_option *o;
    int value;
    CHECK_OPEN(L, s);
    o = check_option(L, 2);
    luaL_checkany(L, 3);
    if (o->kind == PK_OPTK_BOOL) {
        value = lua_toboolean(L, 3);
    } else if (o->kind == PK_OPTK_IFACE) {
        value = (int)pk_check_iface(L, 3);
    } else {
        lua_Integer v = pk_checkinteger(L, 3);
        luaL_argcheck(L, v >= 0 && v <= 0x7fffffff, 3, "value out of range");
        value = (int)v;
    }
    return push_result(L, pk_sock_setopt(s, o, value));
}

/* sock:getoption(name) -> value as the kernel reports it */
static int m_getoption(lua_State *L)
{
    const pk_option *o;
    pk_sockaddr a;
    int value = 0, err;
    CHECK_OPEN(L, s);
    o = check_option(L, 2);
    if ((err = pk_sock_getopt(s, o, &value, &a))) return pk_push_error(L, err);
    if (a.sa.sa_family == AF_INET) {
        char text[PK_ADDRSTRLEN];
        lua_pushlstring(L, text, pk_format_ip4((unsigned char *)&a.v4.sin_addr, text));
    } else if (o->kind == PK_OPTK_BOOL) {
        lua_pushboolean(L, value);
    } else {
        lua_pushinteger(L, value);
    }
    return 1;
}

/* join/leave: (group [, iface [, source]]) */
static int membership(lua_State *L, int join)
{
    pk_target g, src;
    uint32_t ifindex;
    int ssm = !lua_isnoneornil(L, 4);
    CHECK_OPEN(L, s);
    pk_check_target(L, 2, s, 0, &g);
    ifindex = lua_isnoneornil(L, 3) ? 0 : pk_check_iface(L, 3);
    pk_addr_unmap(&g.sa);
    if (ssm) {
        pk_check_target(L, 4, s, 0, &src);
        pk_addr_unmap(&src.sa);
        if (src.ip_family != g.ip_family)
            luaL_argerror(L, 4, "source and group are of different IP versions");
    }
    return push_result(L, pk_sock_membership(s, join, &g.sa, ifindex,
                                             ssm ? &src.sa : NULL));
}

/* sock:join(group [, iface [, source]]) */
static int m_join(lua_State *L)
{
    return membership(L, 1);
}

/* sock:leave(group [, iface [, source]]) */
static int m_leave(lua_State *L)
{
    return membership(L, 0);
}

/* sock:settimeout(t): nil or negative blocks, 0 never waits, else seconds */
static int m_settimeout(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    lua_Number t = luaL_optnumber(L, 2, -1);
    luaL_argcheck(L, t == t, 2, "timeout is NaN");
    s->timeout = t < 0 ? -1 : t;
    lua_pushboolean(L, 1);
    return 1;
}

/* sock:getfd() -> integer (-1 once closed) */
static int m_getfd(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    lua_pushinteger(L, s->fd == PK_NO_SOCKET ? -1 : (lua_Integer)s->fd);
    return 1;
}

/* sock:events() -> "r" (cqueues polling protocol) */
static int m_events(lua_State *L)
{
    pk_check_sock(L);
    lua_pushliteral(L, "r");
    return 1;
}

/* sock:timeout() -> seconds or nil (cqueues polling protocol) */
static int m_timeout(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    if (s->timeout < 0) lua_pushnil(L);
    else lua_pushnumber(L, s->timeout);
    return 1;
}

/* sock:dirty() -> false: nothing is buffered (for socket.select) */
static int m_dirty(lua_State *L)
{
    pk_check_sock(L);
    lua_pushboolean(L, 0);
    return 1;
}

/* close, __gc and __close: closes an owned descriptor; safe twice, never
 * raises, returns true. */
static int m_close(lua_State *L)
{
    pk_sock *s = (pk_sock *)lua_touserdata(L, 1);
    if (s && lua_getmetatable(L, 1) && lua_rawequal(L, -1, PK_UV_META))
        pk_sock_close(s);
    lua_pushboolean(L, 1);
    return 1;
}

/* __tostring: "pktinfo.udp (inet6, fd 7)" or "pktinfo.udp (closed)" */
static int m_tostring(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    const char *kind = s->type == SOCK_DGRAM ? "udp"
                     : s->type == SOCK_RAW ? "raw" : "stream";
    if (s->fd == PK_NO_SOCKET)
        lua_pushfstring(L, "pktinfo.%s (closed)", kind);
    else
        lua_pushfstring(L, "pktinfo.%s (%s, fd %d)", kind,
                        s->family == AF_INET ? "inet" : "inet6", (int)s->fd);
    return 1;
}

static const luaL_Reg methods[] = {
    {"bind", m_bind}, {"getsockname", m_getsockname},
    {"setpktinfo", m_setpktinfo}, {"getpktinfo", m_getpktinfo},
    {"setoption", m_setoption}, {"getoption", m_getoption},
    {"join", m_join}, {"leave", m_leave},
    {"settimeout", m_settimeout}, {"getfd", m_getfd},
    {"pollfd", m_getfd}, {"events", m_events}, {"timeout", m_timeout},
    {"dirty", m_dirty}, {"close", m_close},
    {NULL, NULL}
};

/* The methods that read or fill tables, on the per-datagram path:
 * registered with every key string as an upvalue too (PK_UV_KEY), which
 * lua_pushvalue reads for a fraction of a lua_rawgeti from the keys table. */
static const luaL_Reg hot_methods[] = {
    {"recv", m_recv}, {"recvmany", pk_m_recvmany}, {"sendto", m_sendto},
    {"reply", m_reply}, {"sendmany", pk_m_sendmany},
    {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
    {"__gc", m_close}, {"__tostring", m_tostring},
#if LUA_VERSION_NUM >= 504
    {"__close", m_close},
#endif
    {NULL, NULL}
};

/* With the metatable at -2 and the keys table at -1: fills the metatable
 * with the metamethods and an __index table of methods, all sharing both
 * as upvalues. Leaves the stack as it found it. */
int pk_open_methods(lua_State *L)
{
    int i, k;
    lua_pushvalue(L, -2);                     /* mt keys mt */
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    pk_setfuncs(L, metamethods, 2);           /* mt keys mt */
    lua_newtable(L);                          /* mt keys mt methods */
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    pk_setfuncs(L, methods, 2);
    for (i = 0; hot_methods[i].name; i++) {   /* again, with the keys */
        lua_pushvalue(L, -4);
        lua_pushvalue(L, -4);                 /* ... methods mt keys */
        for (k = 1; k < PK_K_COUNT_; k++) lua_rawgeti(L, -k, k);
        lua_pushcclosure(L, hot_methods[i].func, 2 + PK_K_COUNT_ - 1);
        lua_setfield(L, -2, hot_methods[i].name);
    }
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "pktinfo.socket");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    return 0;
}
