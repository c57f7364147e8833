/* Arguments: address text, ports, interfaces, names and table fields, read
 * into C values. Errors name the argument (and the field). */
#include "lbinding.h"
#include "pk_addr.h"

#include <string.h>

/* Raises "bad argument #arg (item N: field: what)", without "item N: "
 * outside sendmany and without "field: " for a plain argument. */
int pk_field_error(lua_State *L, const pk_where *w, const char *field,
                   const char *what)
{
    if (w->item)
        return luaL_argerror(L, w->arg, lua_pushfstring(L, "item %d: %s%s%s", w->item,
                             field ? field : "", field ? ": " : "", what));
    return luaL_argerror(L, w->arg, field ? lua_pushfstring(L, "%s: %s", field, what) : what);
}

/* Parses the address text at stack index idx into *a (as written: IPv4
 * or IPv6). Raises naming w and field unless it is a numeric address.
 * With PK_T_NOSCOPE a scope that names no interface is dropped (the
 * caller knows the interface otherwise). Returns 0, or ENODEV when the
 * scope names an interface that does not exist (now: an interface can go
 * away at any time, which is not a caller's mistake). */
static int parse_text(lua_State *L, int idx, const pk_where *w,
                      const char *field, int flags, pk_sockaddr *a)
{
    size_t len;
    const char *text = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    int rc;
    if (!text)
        return pk_field_error(L, w, field, lua_pushfstring(L, "address text expected, got %s",
                              luaL_typename(L, idx)));
    rc = pk_addr_parse(text, len, a);
    if (rc == PK_PARSE_NOSCOPE && (flags & PK_T_NOSCOPE))
        rc = pk_addr_parse(text, (size_t)((const char *)memchr(text, '%', len) - text), a);
    if (rc == PK_PARSE_NOSCOPE) return ENODEV;
    if (rc != PK_PARSE_OK)
        return pk_field_error(L, w, field, lua_pushfstring(L,
                              "not a numeric IP address: '%s'", text));
    return 0;
}

/* Parses the address text at stack index idx for socket s into *out (see
 * parse_text): raises unless it is of a family the socket takes; IPv4
 * text is mapped for an inet6 socket. PK_T_WILDCARD accepts "*", the
 * socket family's any-address. Returns 0 or ENODEV. */
int pk_parse_target(lua_State *L, int idx, const pk_where *w,
                    const char *field, const pk_sock *s, int flags,
                    pk_target *out)
{
    size_t len = 0;
    int err;
    if ((flags & PK_T_WILDCARD) && lua_type(L, idx) == LUA_TSTRING
        && *lua_tolstring(L, idx, &len) == '*' && len == 1) {
        memset(out, 0, sizeof *out);
        out->sa.sa.sa_family = (sa_family_t)s->family;
        out->ip_family = s->family;
        return 0;
    }
    err = parse_text(L, idx, w, field, flags, &out->sa);
    if (!err) pk_addr_unmap(&out->sa);
    out->ip_family = out->sa.sa.sa_family;
    if (s->family == AF_INET && out->ip_family == AF_INET6)
        return pk_field_error(L, w, field, lua_pushfstring(L,
                              "IPv6 address on an inet socket: '%s'", lua_tostring(L, idx)));
    if (s->family == AF_INET6) pk_addr_map(&out->sa);
    return err;
}

/* An address argument for socket s (see pk_parse_target). */
int pk_check_target(lua_State *L, int arg, const pk_sock *s, int flags,
                    pk_target *out)
{
    pk_where w;
    w.arg = arg;
    w.item = 0;
    return pk_parse_target(L, arg, &w, NULL, s, flags, out);
}

/* A port argument, 0..65535. */
uint16_t pk_check_port(lua_State *L, int arg)
{
    lua_Integer p = pk_checkinteger(L, arg);
    luaL_argcheck(L, p >= 0 && p <= 65535, arg, "port out of range 0..65535");
    return (uint16_t)p;
}

/* A name argument (family, protocol, option, interface): a string without
 * an embedded NUL, so that "lo\0junk" is not taken for "lo". */
const char *pk_check_name(lua_State *L, int arg)
{
    size_t len;
    const char *name = luaL_checklstring(L, arg, &len);
    if (strlen(name) != len)
        luaL_argerror(L, arg, lua_pushfstring(L, "name with an embedded NUL: '%s'", name));
    return name;
}

/* An interface argument: an index, or a name looked up now. Returns 0,
 * or ENODEV for a name no interface has (now: interfaces come and go). */
int pk_check_iface(lua_State *L, int arg, uint32_t *ifindex)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_Integer i = pk_checkinteger(L, arg);
        luaL_argcheck(L, i >= 0 && i <= 0x7fffffff, arg, "interface index out of range");
        *ifindex = (uint32_t)i;
        return 0;
    }
    if (lua_type(L, arg) != LUA_TSTRING)
        return pk_typeerror(L, arg, "interface name or index");
    *ifindex = if_nametoindex(pk_check_name(L, arg));
    return *ifindex ? 0 : ENODEV;
}

/* The IP address on top of the stack (a table field), as 4 or 16 bytes
 * (v4-mapped unmapped, any scope ignored); pops it and returns its family.
 * Raises naming w and field. */
int pk_field_ip(lua_State *L, const pk_where *w, const char *field,
                unsigned char *bytes)
{
    pk_sockaddr a;
    parse_text(L, lua_gettop(L), w, field, PK_T_NOSCOPE, &a);
    lua_pop(L, 1);
    pk_addr_unmap(&a);
    if (a.sa.sa_family == AF_INET) memcpy(bytes, &a.v4.sin_addr, 4);
    else memcpy(bytes, a.v6.sin6_addr.s6_addr, 16);
    return a.sa.sa_family;
}

/* The integer on top of the stack (a table field), in lo..hi; pops it.
 * Raises naming arg and field otherwise. */
lua_Integer pk_field_int(lua_State *L, const pk_where *w, const char *field,
                         lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = 0;
    int ok = lua_type(L, -1) == LUA_TNUMBER;
    if (ok)   /* pk_num2int: no cast of NaN or 1e300 (undefined in C) */
        ok = pk_num2int(lua_tonumber(L, -1), &v) && v >= lo && v <= hi;
    if (!ok)
        pk_field_error(L, w, field, lua_pushfstring(L, "integer %d..%d expected",
                    (int)lo, (int)hi));
    lua_pop(L, 1);
    return v;
}

/* Pushes addr, port, family of a socket address (v4-mapped shown as IPv4),
 * for getsockname and getpeername. */
void pk_push_sockaddr(lua_State *L, const pk_sockaddr *a)
{
    char text[PK_ADDRSTRLEN];
    size_t len;
    int fam = pk_addr_text(a, text, &len);
    lua_pushlstring(L, text, len);
    lua_pushinteger(L, ntohs(a->v4.sin_port));   /* same offset in sockaddr_in6 */
    lua_pushstring(L, fam == AF_INET ? "inet" : "inet6");
}
