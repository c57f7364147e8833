/* Prefixed shims over the differences between Lua 5.1 (and LuaJIT), 5.2,
 * 5.3 and 5.4. Never defines an unprefixed luaL_* name. */
#ifndef PK_COMPAT_H
#define PK_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* luaL_setfuncs of 5.2+: registers l into the table on top, each function
 * sharing the nup values below it. */
static inline void pk_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    for (; l->name; l++) {
        int i;
        for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#define pk_rawlen(L, i) lua_objlen(L, i)
#else
#define pk_setfuncs(L, l, n) luaL_setfuncs(L, l, n)
#define pk_rawlen(L, i) lua_rawlen(L, i)
#endif

/* Per-socket Lua values (the wrapped object, the receive buffer), kept
 * with the socket userdata: user values 1..PK_NUV on 5.4, the slots of a
 * table set as its user value (5.2, 5.3) or environment (5.1, LuaJIT)
 * before. None of these run a finalizer or a metamethod. */
#define PK_NUV 6
#if LUA_VERSION_NUM >= 504
/* A new userdata of size bytes with room for the per-socket values. */
static inline void *pk_newuserdata(lua_State *L, size_t size)
{
    return lua_newuserdatauv(L, size, PK_NUV);
}
/* Pushes value n of the userdata at ud (absolute index); returns its type. */
static inline int pk_getuv(lua_State *L, int ud, int n)
{
    return lua_getiuservalue(L, ud, n);
}
/* Pops a value into slot n of the userdata at ud (absolute index). */
static inline void pk_setuv(lua_State *L, int ud, int n)
{
    lua_setiuservalue(L, ud, n);
}
#else
#if LUA_VERSION_NUM < 502
#define pk_getuvtable(L, ud) lua_getfenv(L, ud)
#define pk_setuvtable(L, ud) lua_setfenv(L, ud)
#else
#define pk_getuvtable(L, ud) lua_getuservalue(L, ud)
#define pk_setuvtable(L, ud) lua_setuservalue(L, ud)
#endif
static inline void *pk_newuserdata(lua_State *L, size_t size)
{
    void *p = lua_newuserdata(L, size);
    lua_createtable(L, PK_NUV, 0);   /* sized: setting a slot never allocates */
    pk_setuvtable(L, -2);
    return p;
}
static inline int pk_getuv(lua_State *L, int ud, int n)
{
    pk_getuvtable(L, ud);
    lua_rawgeti(L, -1, n);
    lua_remove(L, -2);
    return lua_type(L, -1);
}
static inline void pk_setuv(lua_State *L, int ud, int n)
{
    pk_getuvtable(L, ud);
    lua_insert(L, -2);
    lua_rawseti(L, -2, n);
    lua_pop(L, 1);
}
#endif

/* Raises "bad argument #arg (NAME expected, got TYPE)". */
static inline int pk_typeerror(lua_State *L, int arg, const char *tname)
{
    const char *msg = lua_pushfstring(L, "%s expected, got %s", tname,
                                      luaL_typename(L, arg));
    return luaL_argerror(L, arg, msg);
}

/* The range of lua_Integer that a double converts into exactly: +-2^53
 * where lua_Integer has 64 bits, its own limits where it has 32 (Lua 5.1
 * and 5.2 on i386: ptrdiff_t). */
#define PK_INT_LO (sizeof(lua_Integer) >= 8 ? -9007199254740992.0 : -2147483648.0)
#define PK_INT_HI (sizeof(lua_Integer) >= 8 ? 9007199254740992.0 : 2147483647.0)

/* n as an integer, or 0 when n has no exact integer value (fractional, NaN,
 * or outside PK_INT_LO..PK_INT_HI, where converting it is undefined). */
static inline int pk_num2int(lua_Number n, lua_Integer *out)
{
    if (!(n >= PK_INT_LO && n <= PK_INT_HI)) return 0;
    *out = (lua_Integer)n;
    return (lua_Number)*out == n;
}

/* lua_tointegerx of 5.3+ for every version: the integer at idx, with
 * *isint set only when it is a number (or numeric text) with an exact
 * integer value. */
static inline lua_Integer pk_tointegerx(lua_State *L, int idx, int *isint)
{
#if LUA_VERSION_NUM >= 503
    return lua_tointegerx(L, idx, isint);
#else
    lua_Integer i = 0;
    *isint = lua_isnumber(L, idx) && pk_num2int(lua_tonumber(L, idx), &i);
    return i;
#endif
}

/* An integer argument that must be integral (5.3+ checks it; on 5.1, 5.2
 * and LuaJIT a fractional number is refused here too, with 5.3's words). */
static inline lua_Integer pk_checkinteger(lua_State *L, int arg)
{
#if LUA_VERSION_NUM >= 503
    return luaL_checkinteger(L, arg);
#else
    lua_Integer i = 0;
    if (!pk_num2int(luaL_checknumber(L, arg), &i))
        luaL_argerror(L, arg, "number has no integer representation");
    return i;
#endif
}

#endif
