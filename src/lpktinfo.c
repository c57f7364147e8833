/* luaopen_pktinfo_core: the module table and the socket constructors
 * (the interface functions are liface.c's). */
#include "lbinding.h"

#include <string.h>

#define PK_VERSION "0.2.0"

#if defined(_WIN32)
#define PK_EXPORT __declspec(dllexport)
#else
#define PK_EXPORT __attribute__((visibility("default")))
#endif

/* The names opts may hold, in the order they are applied. */
static const char *const opt_names[] = {
    "v6only", "reuseaddr", "reuseport", "broadcast", "rcvbuf", "sndbuf",
    "device", "mark", "freebind", "transparent", "recvorigdst", "recverr",
    "mtu-discover",
    "pktinfo", "timeout", "own", NULL
};

/* Raises unless every key of the opts table at arg is a known name. */
static void check_opts(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        int i, known = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            for (i = 0; opt_names[i]; i++)
                if (strcmp(opt_names[i], lua_tostring(L, -1)) == 0) known = 1;
        if (!known)
            luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'",
                          lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                         : luaL_typename(L, -1)));
    }
}

/* Applies one option of opts (the value on top) to s; returns 0 or an
 * OS error. An option set to false (or 0) is never an error: it is off,
 * or means nothing for this socket (v6only on an inet socket). */
static int apply_opt(lua_State *L, int arg, pk_sock *s, const char *name)
{
    const pk_option *o;
    int value = lua_toboolean(L, -1), err;
    if (strcmp(name, "pktinfo") == 0)
        return value ? pk_sock_set_pktinfo(s, 1) : 0;
    if (strcmp(name, "timeout") == 0) {
        lua_Number t = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || t != t)   /* NaN, as settimeout */
            luaL_argerror(L, arg, "opts.timeout: number expected");
        s->timeout = t < 0 ? -1 : t;
        return 0;
    }
    /* a gateway option this platform lacks is unknown (README, "Gateways") */
    if (!pk_option_find(name) && strcmp(name, "reuseport") != 0)
        return luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'", name));
    if (!(o = pk_option_find(name))) return 0;   /* reuseport where absent */
    if (o->kind >= PK_OPTK_U32) return pk_gw_apply_opt(L, arg, s, o);
    if (o->kind == PK_OPTK_INT) {
        int isint;
        lua_Integer v = pk_tointegerx(L, -1, &isint);
        if (lua_type(L, -1) != LUA_TNUMBER || !isint || v < 0 || v > 0x7fffffff)
            luaL_argerror(L, arg, lua_pushfstring(L,
                          "opts.%s: integer 0..2147483647 expected", name));
        value = (int)v;
    }
    err = pk_sock_setopt(s, o, value);
    return value ? err : 0;
}

/* Applies the socket options of opts (arg); returns 0 or an OS error. */
static int apply_opts(lua_State *L, int arg, pk_sock *s)
{
    int i, err = 0;
    if (lua_isnoneornil(L, arg)) return 0;
    for (i = 0; opt_names[i] && !err; i++) {
        lua_getfield(L, arg, opt_names[i]);
        if (!lua_isnil(L, -1) && strcmp(opt_names[i], "own") != 0)
            err = apply_opt(L, arg, s, opt_names[i]);
        lua_pop(L, 1);
    }
    return err;
}

/* A new socket userdata, closed, with the metatable already set so that
 * __gc is safe on every later failure. */
static pk_sock *new_userdata(lua_State *L)
{
    pk_lsock *ls = (pk_lsock *)pk_newuserdata(L, sizeof *ls);
    pk_sock *s = &ls->sock;
    memset(ls, 0, sizeof *ls);
    s->fd = PK_NO_SOCKET;
    s->timeout = -1;
    lua_pushvalue(L, PK_UV_META);
    lua_setmetatable(L, -2);
    return s;
}

/* Opens a socket, applies opts; returns it, or the error triple. */
static int open_socket(lua_State *L, int family, int type, int protocol,
                       int opts)
{
    pk_sock *s;
    int err;
    lua_settop(L, opts);                  /* opts is nil when absent */
    check_opts(L, opts);
    s = new_userdata(L);
    if ((err = pk_sock_open(s, family, type, protocol)))
        return pk_push_error(L, err);
    if ((err = apply_opts(L, opts, s))) {
        pk_sock_close(s);
        return pk_push_error(L, err);
    }
    return 1;
}

/* The family argument: "inet" (default) or "inet6". */
static int check_family(lua_State *L, int arg, const char *def)
{
    static const char *const names[] = {"inet", "inet6", NULL};
    /* a string without NUL ("inet\0x"); LuaJIT's luaL_checkoption would
     * take any non-string for the default */
    if (!lua_isnoneornil(L, arg)) pk_check_name(L, arg);
    return luaL_checkoption(L, arg, def, names) == 0 ? AF_INET : AF_INET6;
}

/* pktinfo.udp([family [, opts]]) */
static int f_udp(lua_State *L)
{
    int family = check_family(L, 1, "inet");
    return open_socket(L, family, SOCK_DGRAM, 0, 2);
}

/* pktinfo.raw(family, protocol [, opts]) */
static int f_raw(lua_State *L)
{
    int family = check_family(L, 1, NULL);
    int protocol;
    if (lua_type(L, 2) == LUA_TSTRING) {
        protocol = pk_protocol_number(pk_check_name(L, 2));
        if (protocol < 0)
            luaL_argerror(L, 2, lua_pushfstring(L, "unknown protocol '%s'",
                                                lua_tostring(L, 2)));
    } else {
        lua_Integer p = pk_checkinteger(L, 2);
        luaL_argcheck(L, p >= 0 && p <= 255, 2, "protocol out of range 0..255");
        protocol = (int)p;
    }
    return open_socket(L, family, SOCK_RAW, protocol, 3);
}

enum { FD_NEGATIVE = -1, FD_TOO_LARGE = -2 };

/* Argument arg as a descriptor number: raises unless it is a whole number;
 * one outside 0..2^31-1 gives FD_NEGATIVE or FD_TOO_LARGE, whatever the
 * width of lua_Integer (32 bits on i386 Lua 5.1 and 5.2). */
static lua_Integer check_descriptor(lua_State *L, int arg)
{
    lua_Number n = luaL_checknumber(L, arg);
    int whole = n != n ? 0
              : (n > 9007199254740992.0 || n < -9007199254740992.0) ? 1
              : (lua_Number)(long long)n == n;
    if (!whole) luaL_argerror(L, arg, "number has no integer representation");
    if (n < 0) return FD_NEGATIVE;
    if (n > 2147483647.0) return FD_TOO_LARGE;
    return (lua_Integer)n;
}

/* pktinfo.wrap(fd_or_object [, opts]): adopts a descriptor (on POSIX a
 * duplicate of it, unless opts.own), keeping a wrapped object alive as
 * long as the socket. A failure never closes the caller's descriptor. */
static int f_wrap(lua_State *L)
{
    lua_Integer fd;
    pk_sock *s;
    int err, own = 0, object = lua_type(L, 1) != LUA_TNUMBER;
    lua_settop(L, 2);
    if (object) {
        if (lua_type(L, 1) != LUA_TTABLE && lua_type(L, 1) != LUA_TUSERDATA)
            return pk_typeerror(L, 1, "descriptor or object with getfd");
        lua_getfield(L, 1, "getfd");
        if (lua_type(L, -1) != LUA_TFUNCTION)
            return luaL_argerror(L, 1, "object has no getfd method");
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
        if (lua_type(L, -1) != LUA_TNUMBER)
            return luaL_argerror(L, 1, "getfd did not return a number");
        lua_insert(L, 1);                 /* fd object opts */
        lua_insert(L, 2);                 /* fd opts object */
    }
    fd = check_descriptor(L, 1);
    check_opts(L, 2);
    if (!lua_isnoneornil(L, 2)) {
        lua_getfield(L, 2, "own");
        own = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (fd < 0) {                       /* not 2^32 + 5 read as descriptor 5 */
        lua_pushnil(L);
        lua_pushstring(L, fd == FD_NEGATIVE ? "descriptor is negative (socket not created yet?)"
                                            : "descriptor out of range");
        lua_pushliteral(L, "EBADF");
        return 3;
    }
    s = new_userdata(L);
    if (object) {
        lua_pushvalue(L, 3);
        pk_setuv(L, lua_gettop(L) - 1, PK_SLOT_OBJECT);
    }
    if ((err = pk_sock_adopt(s, (pk_socket_t)fd, own))) return pk_push_error(L, err);
    if ((err = apply_opts(L, 2, s))) {
        if (own) s->owned = 0;            /* the caller's: leave it open */
        pk_sock_close(s);
        return pk_push_error(L, err);
    }
    return 1;
}

static const luaL_Reg functions[] = {
    {"udp", f_udp}, {"raw", f_raw}, {"wrap", f_wrap},
    {NULL, NULL}
};

/* The key strings, in PK_K_* order. */
static const char *const key_names[] = {
    "from", "port", "family", "addr", "ifindex", "spec_dst", "truncated",
    "ctruncated", "ttl", "tos", "ecn", "time", "dropped", "data",
    "inet", "inet6", "to", "out", "orig_dst", "orig_port"
};

/* require "pktinfo.core" */
PK_EXPORT int luaopen_pktinfo_core(lua_State *L);
PK_EXPORT int luaopen_pktinfo_core(lua_State *L)
{
    int i, err = pk_sys_init();
    if (err) return luaL_error(L, "pktinfo: socket layer failed to start (%d)", err);
    lua_newtable(L);                                  /* module */
    luaL_newmetatable(L, "pktinfo.socket");           /* module mt */
    lua_createtable(L, PK_K_WRITTEN, 0);              /* module mt keys */
    for (i = 1; i < PK_K_COUNT_; i++) {
        lua_pushstring(L, key_names[i - 1]);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, 0);
    lua_rawseti(L, -2, PK_K_WRITTEN);
    pk_open_methods(L);
    pk_setfuncs(L, functions, 2);                     /* module */
    pk_open_iface(L);
    lua_pushliteral(L, PK_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushinteger(L, IP_PKTINFO);
    lua_setfield(L, -2, "IP_PKTINFO");
    lua_pushinteger(L, IPV6_PKTINFO);
    lua_setfield(L, -2, "IPV6_PKTINFO");
    return 1;
}
