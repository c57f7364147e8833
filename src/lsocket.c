/* The socket methods other than those that move datagrams (lrecv.c,
 * lsend.c): thin Lua wrappers over pk_sock_*, and the method table. */
#include "lbinding.h"
#include "pk_addr.h"

#include <string.h>


/* The socket at index 1, or NULL: a full userdata of its size with the
 * module's metatable (compared with the upvalue: no registry lookup). */
static pk_sock *to_sock(lua_State *L)
{
    pk_sock *s;
    if (lua_type(L, 1) != LUA_TUSERDATA || pk_rawlen(L, 1) != sizeof(pk_lsock)
        || !lua_getmetatable(L, 1))
        return NULL;
    s = lua_rawequal(L, -1, PK_UV_META) ? (pk_sock *)lua_touserdata(L, 1) : NULL;
    lua_pop(L, 1);
    return s;
}

/* self, or a raised error. */
pk_sock *pk_check_sock(lua_State *L)
{
    pk_sock *s = to_sock(L);
    if (!s) pk_typeerror(L, 1, "pktinfo socket");
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
    int err;
    CHECK_OPEN(L, s);
    err = pk_check_target(L, 2, s, PK_T_WILDCARD, &t);
    port = pk_check_port(L, 3);
    if (err) return pk_push_error(L, err);
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
    int value, err;
    CHECK_OPEN(L, s);
    o = check_option(L, 2);
    luaL_checkany(L, 3);
    if (o->kind >= PK_OPTK_U32) return pk_gw_setoption(L, s, o);
    if (o->kind == PK_OPTK_BOOL) {
        value = lua_toboolean(L, 3);
    } else if (o->kind == PK_OPTK_IFACE) {
        uint32_t ifindex = 0;
        if ((err = pk_check_iface(L, 3, &ifindex))) return pk_push_error(L, err);
        value = (int)ifindex;
    } else {
        lua_Integer v = pk_checkinteger(L, 3);
        luaL_argcheck(L, v >= 0 && v <= 0x7fffffff, 3, "value out of range");
        value = (int)v;
    }
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);   /* a finalizer, while a
                                                             * number became a name */
    err = pk_sock_setopt(s, o, value);
    /* turning an option off is never an error (v6only = false on an inet
     * socket, say): it is off, or means nothing there */
    return push_result(L, value ? err : 0);
}

/* sock:getoption(name) -> value as the kernel reports it */
static int m_getoption(lua_State *L)
{
    const pk_option *o;
    pk_sockaddr a;
    int value = 0, err;
    CHECK_OPEN(L, s);
    o = check_option(L, 2);
    if (o->kind >= PK_OPTK_U32) return pk_gw_getoption(L, s, o);
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
    int ssm = !lua_isnoneornil(L, 4), err, e2;
    CHECK_OPEN(L, s);
    err = pk_check_target(L, 2, s, 0, &g);
    ifindex = 0;
    if (!lua_isnoneornil(L, 3) && (e2 = pk_check_iface(L, 3, &ifindex)) && !err) err = e2;
    pk_addr_unmap(&g.sa);
    if (ssm) {
        e2 = pk_check_target(L, 4, s, 0, &src);
        pk_addr_unmap(&src.sa);
        if (!e2 && src.ip_family != g.ip_family)
            luaL_argerror(L, 4, "source and group are of different IP versions");
        if (!err) err = e2;
    }
    if (err) return pk_push_error(L, err);
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
    s->poll_deadline = 0;
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

/* sock:timeout() -> seconds or nil (cqueues polling protocol). An event
 * loop asks this when it starts waiting for the socket, so the clock
 * starts here: the next recv/recvmany waits no later than this deadline,
 * and returns at once when the loop woke because the time ran out (README,
 * "Event loops"). nil (wait for readability alone) for a blocking socket
 * and for settimeout(0), where a 0 would make the loop spin; 0 while
 * datagrams wait in the socket itself, which the descriptor does not show
 * (README, "Offload"). */
static int m_timeout(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    if (s->off.pend.left) {      /* datagrams kept from a coalesced buffer */
        lua_pushnumber(L, 0);
        return 1;
    }
    if (s->timeout <= 0) {
        lua_pushnil(L);
        return 1;
    }
    s->poll_deadline = pk_now() + s->timeout;
    lua_pushnumber(L, s->timeout);
    return 1;
}

/* sock:dirty() -> whether datagrams wait in the socket itself (kept from
 * a coalesced buffer, option gro): socket.select then reports it ready */
static int m_dirty(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    lua_pushboolean(L, s->off.pend.left > 0);
    return 1;
}

/* close, __gc and __close: closes an owned descriptor and lets go of the
 * receive buffer and a wrapped object; safe twice, never raises, returns
 * true. */
static int m_close(lua_State *L)
{
    pk_sock *s = to_sock(L);
    if (s && s->fd != PK_NO_SOCKET) {
        int i;
        pk_sock_close(s);
        memset(((pk_lsock *)s)->text, 0, sizeof ((pk_lsock *)s)->text);
        for (i = PK_SLOT_OBJECT; i <= PK_NUV; i++) {
            lua_pushnil(L);
            pk_setuv(L, 1, i);
        }
    }
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
    {"recv", pk_m_recv}, {"recvmany", pk_m_recvmany},
    {"sendto", pk_m_sendto}, {"reply", pk_m_reply}, {"sendmany", pk_m_sendmany},
    {"setoption", m_setoption}, {"getoption", m_getoption},
    {"join", m_join}, {"leave", m_leave},
    {"setpeername", pk_m_setpeername}, {"getpeername", pk_m_getpeername},
    {"send", pk_m_send}, {"setsockopt", pk_m_setsockopt},
    {"getsockopt", pk_m_getsockopt}, {"recverr", pk_m_recverr},
    {"settimeout", m_settimeout}, {"getfd", m_getfd},
    {"pollfd", m_getfd}, {"events", m_events}, {"timeout", m_timeout},
    {"dirty", m_dirty}, {"close", m_close},
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
    lua_pushvalue(L, -2);                     /* mt keys mt */
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    pk_setfuncs(L, metamethods, 2);           /* mt keys mt */
    lua_newtable(L);                          /* mt keys mt methods */
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    pk_setfuncs(L, methods, 2);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "pktinfo.socket");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    return 0;
}
