/* pktinfo.interfaces(), pktinfo.ifname(), pktinfo.ifindex(): the host's
 * interfaces for Lua, over pk_iface.h. */
#include "lbinding.h"
#include "pk_addr.h"
#include "pk_iface.h"

#include <string.h>

#define LIST_META "pktinfo.iflist"

/* __gc of the box that owns a C interface list while Lua tables are built
 * from it (an allocation that raises must not leak it). */
static int list_gc(lua_State *L)
{
    pk_iface_free((pk_iflist *)lua_touserdata(L, 1));
    return 0;
}

/* Pushes "addr/prefix", with "%name" after a link-local IPv6 address. */
static void push_addr(lua_State *L, const pk_ifaddr *a, const pk_iface *f)
{
    char text[PK_ADDRSTRLEN];
    if (a->family == AF_INET) {
        pk_format_ip4(a->addr, text);
        lua_pushfstring(L, "%s/%d", text, (int)a->prefix);
    } else if (pk_ip6_is_linklocal(a->addr)) {
        pk_format_ip6(a->addr, text);
        if (f->name[0])
            lua_pushfstring(L, "%s%%%s/%d", text, f->name, (int)a->prefix);
        else
            lua_pushfstring(L, "%s%%%d/%d", text, (int)f->index, (int)a->prefix);
    } else {
        pk_format_ip6(a->addr, text);
        lua_pushfstring(L, "%s/%d", text, (int)a->prefix);
    }
}

/* Pushes the table of interface f: index, name, up, addrs. */
static void push_iface(lua_State *L, const pk_iflist *l, const pk_iface *f)
{
    size_t i;
    int n = 0;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)f->index);
    lua_setfield(L, -2, "index");
    if (f->name[0]) lua_pushstring(L, f->name);
    else lua_pushfstring(L, "%d", (int)f->index);
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, f->up);
    lua_setfield(L, -2, "up");
    lua_newtable(L);
    for (i = 0; i < l->naddrs; i++)
        if (l->addrs[i].ifindex == f->index) {
            push_addr(L, &l->addrs[i], f);
            lua_rawseti(L, -2, ++n);
        }
    lua_setfield(L, -2, "addrs");
}

/* pktinfo.interfaces() -> { {index=, name=, up=, addrs={...}}, ... } |
 * nil, err, errname */
static int f_interfaces(lua_State *L)
{
    pk_iflist *l;
    size_t i;
    int err;
    lua_settop(L, 0);
    l = (pk_iflist *)lua_newuserdata(L, sizeof *l);
    memset(l, 0, sizeof *l);
    if (luaL_newmetatable(L, LIST_META)) {
        lua_pushcfunction(L, list_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, 1);
    if ((err = pk_iface_list(l))) return pk_push_error(L, err);
    lua_createtable(L, (int)l->nifs, 0);
    for (i = 0; i < l->nifs; i++) {
        push_iface(L, l, &l->ifs[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    pk_iface_free(l);
    return 1;
}

/* pktinfo.ifname(ifindex) -> name | nil, err, errname */
static int f_ifname(lua_State *L)
{
    char name[IF_NAMESIZE];
    lua_Integer i = pk_checkinteger(L, 1);
    luaL_argcheck(L, i >= 0 && i <= 0x7fffffff, 1, "interface index out of range");
    if (!if_indextoname((unsigned)i, name)) {
        lua_pushnil(L);
        lua_pushfstring(L, "no interface with index %d", (int)i);
        lua_pushliteral(L, "ENXIO");
        return 3;
    }
    lua_pushstring(L, name);
    return 1;
}

/* pktinfo.ifindex(name) -> index | nil, err, errname */
static int f_ifindex(lua_State *L)
{
    const char *name = pk_check_name(L, 1);
    unsigned idx = if_nametoindex(name);
    if (idx == 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "no interface named '%s'", name);
        lua_pushliteral(L, "ENODEV");
        return 3;
    }
    lua_pushinteger(L, idx);
    return 1;
}

/* Adds interfaces, ifname and ifindex to the module table on top. */
void pk_open_iface(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"interfaces", f_interfaces}, {"ifname", f_ifname},
        {"ifindex", f_ifindex}, {NULL, NULL}
    };
    pk_setfuncs(L, functions, 0);
}
