/* The gateway methods (README, "Gateways"): setpeername, getpeername,
 * setsockopt, getsockopt, recverr, and the values of the gateway options
 * (device, mark, mtu-discover) for setoption, getoption and opts. Every
 * method reads its arguments into C locals first, then checks the socket
 * is open, then makes the system call, then pushes results from C locals
 * only (lbinding.h). send is lsend.c's. */
#include "lbinding.h"
#include "pk_addr.h"
#include "pk_gw.h"

#include <string.h>

/* Room for the part of a failed datagram an ICMP error quotes: Linux
 * quotes at most 576 bytes for IPv4 and 1280 for IPv6; more is reported
 * as info.truncated. */
#define PK_ERRQ_DATA 4096

#define CHECK_OPEN(L, s) \
    pk_sock *s = pk_check_sock(L); \
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L)

/* true, or the error triple. */
static int push_result(lua_State *L, int err)
{
    if (err) return pk_push_error(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* Pushes u: an integer, or a float where lua_Integer is 32 bits. */
static void push_u32(lua_State *L, uint32_t u)
{
    if (sizeof(lua_Integer) > 4 || u <= 0x7fffffffu) lua_pushinteger(L, (lua_Integer)u);
    else lua_pushnumber(L, (lua_Number)u);
}

/* An integer argument in lo..hi (C ints), or a raised error naming what. */
static int check_cint(lua_State *L, int arg, lua_Integer lo, lua_Integer hi,
                      const char *what)
{
    lua_Integer v = pk_checkinteger(L, arg);
    if (v < lo || v > hi)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s out of range %d..%d", what,
                                              (int)lo, (int)hi));
    return (int)v;
}

/* sock:setpeername(addr, port) connects the socket to one peer;
 * sock:setpeername("*") dissolves the association. */
int pk_m_setpeername(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_target t;
    int err = 0, any = lua_type(L, 2) == LUA_TSTRING && pk_rawlen(L, 2) == 1
                       && *lua_tostring(L, 2) == '*';
    if (!any) {
        err = pk_check_target(L, 2, s, 0, &t);
        t.sa.v4.sin_port = htons(pk_check_port(L, 3));   /* same offset in v6 */
    }
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if (err) return pk_push_error(L, err);
    return push_result(L, pk_sock_connect(s, any ? NULL : &t.sa));
}

/* sock:getpeername() -> addr, port, family (ENOTCONN when not connected) */
int pk_m_getpeername(lua_State *L)
{
    pk_sockaddr a;
    int err;
    CHECK_OPEN(L, s);
    if ((err = pk_sock_peer(s, &a))) return pk_push_error(L, err);
    pk_push_sockaddr(L, &a);
    return 3;
}

/* The level argument: a number, or "socket", "ip", "ipv6", "udp". */
static int check_level(lua_State *L, int arg)
{
    static const char *const names[] = {"socket", "ip", "ipv6", "udp", NULL};
    static const int levels[] = {SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP};
    int i;
    if (lua_type(L, arg) == LUA_TNUMBER) return check_cint(L, arg, 0, 0x7fffffff, "level");
    if (lua_type(L, arg) != LUA_TSTRING)
        return pk_typeerror(L, arg, "level number or name");
    for (i = 0; names[i]; i++)
        if (strcmp(names[i], lua_tostring(L, arg)) == 0 && pk_rawlen(L, arg) == strlen(names[i]))
            return levels[i];
    return luaL_argerror(L, arg, lua_pushfstring(L,
        "unknown level '%s' (a number, or 'socket', 'ip', 'ipv6', 'udp')", lua_tostring(L, arg)));
}

/* sock:setsockopt(level, name, value): value an integer (a C int) or a
 * string of at most 256 bytes, given to the kernel as they are. */
int pk_m_setsockopt(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    int level = check_level(L, 2);
    int name = check_cint(L, 3, 0, 0x7fffffff, "name");
    int ivalue = 0;
    size_t len = 0;
    const char *bytes = NULL;
    if (lua_type(L, 4) == LUA_TSTRING) {
        bytes = lua_tolstring(L, 4, &len);
        luaL_argcheck(L, len <= PK_SOCKOPT_MAX, 4, "string longer than 256 bytes");
    } else if (lua_type(L, 4) == LUA_TNUMBER) {
        ivalue = check_cint(L, 4, -0x7fffffff - 1, 0x7fffffff, "integer value");
    } else {
        return pk_typeerror(L, 4, "integer or string");
    }
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    return push_result(L, bytes ? pk_sys_setbytes(s->fd, level, name, bytes, len)
                                : pk_sys_setint(s->fd, level, name, ivalue));
}

/* sock:getsockopt(level, name [, size]) -> integer, or with size a string
 * of at most size (1..256) bytes as the kernel gives them. */
int pk_m_getsockopt(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    int level = check_level(L, 2);
    int name = check_cint(L, 3, 0, 0x7fffffff, "name");
    int bytes = !lua_isnoneornil(L, 4), value = 0, err;
    size_t len = bytes ? (size_t)check_cint(L, 4, 1, PK_SOCKOPT_MAX, "size") : 0;
    char buf[PK_SOCKOPT_MAX];
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if (!bytes) {
        if ((err = pk_sys_getint(s->fd, level, name, &value))) return pk_push_error(L, err);
        lua_pushinteger(L, value);
        return 1;
    }
    memset(buf, 0, sizeof buf);
    if ((err = pk_sys_getbytes(s->fd, level, name, buf, &len))) return pk_push_error(L, err);
    lua_pushlstring(L, buf, len);
    return 1;
}

/* Pushes the text of a (v4-mapped shown as IPv4) and returns its family. */
static int push_addr(lua_State *L, const pk_sockaddr *a)
{
    char text[PK_ADDRSTRLEN];
    size_t len;
    int family = pk_addr_text(a, text, &len);
    lua_pushlstring(L, text, len);
    return family;
}

/* Pushes data, info for error e and the quoted datagram in buf: every
 * value from C locals (Lua may run at any push: nothing here belongs to
 * the socket). */
static int push_errinfo(lua_State *L, const unsigned char *buf, const pk_errinfo *e)
{
    int family;
    lua_pushlstring(L, (const char *)buf, e->len);                /* data */
    lua_createtable(L, 0, 10);                                    /* info */
    family = push_addr(L, &e->to);
    lua_setfield(L, -2, "to");
    lua_pushinteger(L, ntohs(e->to.v4.sin_port));                 /* same offset in v6 */
    lua_setfield(L, -2, "port");
    lua_pushstring(L, family == AF_INET6 ? "inet6" : "inet");
    lua_setfield(L, -2, "family");
    lua_pushstring(L, e->found ? pk_errname(e->err) : "EUNKNOWN");
    lua_setfield(L, -2, "err");
    lua_pushstring(L, pk_errq_origin_name(e->found ? e->origin : PK_ORIGIN_NONE));
    lua_setfield(L, -2, "origin");
    if (e->found && (e->origin == PK_ORIGIN_ICMP || e->origin == PK_ORIGIN_ICMP6)) {
        lua_pushinteger(L, e->type);
        lua_setfield(L, -2, "type");
        lua_pushinteger(L, e->code);
        lua_setfield(L, -2, "code");
    }
    if (e->found && e->has_offender) {
        push_addr(L, &e->offender);
        lua_setfield(L, -2, "offender");
    }
    if (e->found && e->err == EMSGSIZE) {
        push_u32(L, e->info);
        lua_setfield(L, -2, "mtu");
    }
    lua_pushboolean(L, e->truncated);
    lua_setfield(L, -2, "truncated");
    return 2;
}

/* sock:recverr() -> data, info: one error from the error queue (option
 * recverr), waiting per the timeout; nil, "timeout", "ETIMEDOUT" when
 * none comes. */
int pk_m_recverr(lua_State *L)
{
    unsigned char buf[PK_ERRQ_DATA];
    pk_errinfo e;
    int err;
    CHECK_OPEN(L, s);
    memset(&e, 0, sizeof e);
    err = pk_sock_recverr(s, buf, sizeof buf, &e);
    s->poll_deadline = 0;
    if (err) return pk_push_error(L, err);
    return push_errinfo(L, buf, &e);
}

/* A value of a gateway option, read from the Lua value at idx. */
typedef struct gw_value {
    int off;                     /* false: off, never an error */
    int mode;                    /* PMTUD */
    uint32_t u32;                /* U32 */
    const char *name;            /* DEVICE */
} gw_value;

/* Reads the value at idx for option o into *v; returns NULL, or what was
 * expected (for the caller's error). */
static const char *read_value(lua_State *L, int idx, const pk_option *o, gw_value *v)
{
    static const char *const modes[] = {"dont", "want", "do", "probe", NULL};
    int t = lua_type(L, idx), i;
    memset(v, 0, sizeof *v);
    v->name = "";
    if (t == LUA_TBOOLEAN && !lua_toboolean(L, idx)) {
        v->off = 1;
        return NULL;
    }
    if (o->kind == PK_OPTK_DEVICE) {
        size_t len;
        if (t != LUA_TSTRING) return "interface name expected";
        v->name = lua_tolstring(L, idx, &len);
        return strlen(v->name) == len ? NULL : "interface name with an embedded NUL";
    }
    if (o->kind == PK_OPTK_PMTUD) {
        for (i = 0; t == LUA_TSTRING && modes[i]; i++)
            if (strcmp(modes[i], lua_tostring(L, idx)) == 0 && pk_rawlen(L, idx) == strlen(modes[i])) {
                v->mode = i;
                return NULL;
            }
        return "'dont', 'want', 'do' or 'probe' expected";
    }
    /* as a lua_Number: a 32-bit lua_Integer (i386 Lua 5.1) cannot hold
     * 4294967295 */
    if (t == LUA_TNUMBER) {
        lua_Number n = lua_tonumber(L, idx);
        if (n >= 0 && n <= 4294967295.0 && (lua_Number)(uint32_t)n == n) {
            v->u32 = (uint32_t)n;
            v->off = v->u32 == 0;
            return NULL;
        }
    }
    return "integer 0..4294967295 expected";
}

/* Sets option o to v; returns 0 or an error number (never one for off). */
static int set_value(pk_sock *s, const pk_option *o, const gw_value *v)
{
    uint32_t u32 = v->u32;
    int err, bits;
    if (o->kind == PK_OPTK_DEVICE) {
        err = pk_sock_set_device(s, v->off ? "" : v->name);
    } else if (o->kind == PK_OPTK_PMTUD) {
        err = pk_sock_setopt(s, o, v->off ? PK_PMTUD_DONT : v->mode);
    } else {                     /* U32: the same 32 bits as a C int */
        memcpy(&bits, &u32, sizeof bits);
        err = pk_sock_setopt(s, o, bits);
    }
    return v->off ? 0 : err;
}

/* setoption(name, value) for the gateway kinds (lsocket.c). */
int pk_gw_setoption(lua_State *L, pk_sock *s, const pk_option *o)
{
    gw_value v;
    const char *what = read_value(L, 3, o, &v);
    if (what) return luaL_argerror(L, 3, what);
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    return push_result(L, set_value(s, o, &v));
}

/* getoption(name) for the gateway kinds (lsocket.c). */
int pk_gw_getoption(lua_State *L, pk_sock *s, const pk_option *o)
{
    static const char *const modes[] = {"dont", "want", "do", "probe"};
    char name[PK_DEVICE_NAMECAP];
    pk_sockaddr unused;
    int value = 0, err;
    if (o->kind == PK_OPTK_DEVICE) {
        if ((err = pk_sock_get_device(s, name, sizeof name))) return pk_push_error(L, err);
        lua_pushstring(L, name);
        return 1;
    }
    if ((err = pk_sock_getopt(s, o, &value, &unused))) return pk_push_error(L, err);
    if (o->kind == PK_OPTK_PMTUD && pk_pmtud_from_sys(value) >= 0)
        lua_pushstring(L, modes[pk_pmtud_from_sys(value)]);
    else if (o->kind == PK_OPTK_U32) push_u32(L, (uint32_t)value);
    else lua_pushinteger(L, value);
    return 1;
}

/* opts.name (the value on top) for the gateway kinds (lpktinfo.c):
 * raises "opts.name: ..." for a bad value; returns 0 or an error number. */
int pk_gw_apply_opt(lua_State *L, int arg, pk_sock *s, const pk_option *o)
{
    gw_value v;
    const char *what = read_value(L, lua_gettop(L), o, &v);
    if (what) return luaL_argerror(L, arg, lua_pushfstring(L, "opts.%s: %s", o->name, what));
    return set_value(s, o, &v);
}

