/* Test helper for the Windows specs (no LuaSocket there): makes the
 * sockets and handles the specs hand to pktinfo.wrap, and tells whether
 * the process runs under Wine. Built by `make test-windows` only. */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <lua.h>
#include <lauxlib.h>

/* The family argument: "inet" (default) or "inet6". */
static int family(lua_State *L)
{
    static const char *const names[] = {"inet", "inet6", NULL};
    return luaL_checkoption(L, 1, "inet", names) == 0 ? AF_INET : AF_INET6;
}

/* Pushes a new socket of type as an integer, or nil and the WSA code. */
static int push_socket(lua_State *L, int type, int blocking)
{
    u_long nbio = blocking ? 0 : 1;
    SOCKET fd = socket(family(L), type, 0);
    if (fd == INVALID_SOCKET) {
        lua_pushnil(L);
        lua_pushinteger(L, WSAGetLastError());
        return 2;
    }
    ioctlsocket(fd, FIONBIO, &nbio);
    lua_pushinteger(L, (lua_Integer)fd);
    return 1;
}

/* wintest.tcp([family]) -> a stream socket */
static int t_tcp(lua_State *L)
{
    return push_socket(L, SOCK_STREAM, 0);
}

/* wintest.udp_blocking([family]) -> a blocking datagram socket, as a
 * program that never called ioctlsocket(FIONBIO) has */
static int t_udp_blocking(lua_State *L)
{
    return push_socket(L, SOCK_DGRAM, 1);
}

/* wintest.closesocket(fd) -> true or nil, code */
static int t_closesocket(lua_State *L)
{
    SOCKET fd = (SOCKET)luaL_checkinteger(L, 1);
    if (closesocket(fd)) {
        lua_pushnil(L);
        lua_pushinteger(L, WSAGetLastError());
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* wintest.setsockopt(fd, level, name, int) -> true or nil, WSA code: the
 * raw Winsock answer, to compare Windows with Wine */
static int t_setsockopt(lua_State *L)
{
    SOCKET fd = (SOCKET)luaL_checkinteger(L, 1);
    int value = (int)luaL_checkinteger(L, 4);
    if (setsockopt(fd, (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3),
                   (const char *)&value, sizeof value)) {
        lua_pushnil(L);
        lua_pushinteger(L, WSAGetLastError());
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* wintest.file() -> a handle that is no socket (the NUL device) */
static int t_file(lua_State *L)
{
    HANDLE h = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        lua_pushnil(L);
        lua_pushinteger(L, (lua_Integer)GetLastError());
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)(intptr_t)h);
    return 1;
}

/* wintest.closehandle(h) */
static int t_closehandle(lua_State *L)
{
    lua_pushboolean(L, CloseHandle((HANDLE)(intptr_t)luaL_checkinteger(L, 1)));
    return 1;
}

/* wintest.wine() -> Wine's version, or nil on Windows */
static int t_wine(lua_State *L)
{
    typedef const char *(CDECL *version_fn)(void);
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    FARPROC p = ntdll ? GetProcAddress(ntdll, "wine_get_version") : NULL;
    version_fn version;
    if (!p) {
        lua_pushnil(L);
        return 1;
    }
    version = (version_fn)(void (*)(void))p;
    lua_pushstring(L, version());
    return 1;
}

/* wintest.sleep(seconds) */
static int t_sleep(lua_State *L)
{
    Sleep((DWORD)(luaL_checknumber(L, 1) * 1000));
    return 0;
}

/* package.loadlib(path, "wintest_socket_error")() -> the WSA code of a
 * socket() call made now (0 if it worked): loaded that way, without
 * luaopen_wintest (which starts Winsock), it shows whether anything else
 * in the process has started Winsock. */
__declspec(dllexport) int wintest_socket_error(lua_State *L);
__declspec(dllexport) int wintest_socket_error(lua_State *L)
{
    SOCKET fd = socket(AF_INET, SOCK_DGRAM, 0);
    lua_pushinteger(L, fd == INVALID_SOCKET ? WSAGetLastError() : 0);
    if (fd != INVALID_SOCKET) closesocket(fd);
    return 1;
}

static const luaL_Reg functions[] = {
    {"tcp", t_tcp}, {"udp_blocking", t_udp_blocking},
    {"closesocket", t_closesocket}, {"setsockopt", t_setsockopt},
    {"file", t_file},
    {"closehandle", t_closehandle}, {"wine", t_wine}, {"sleep", t_sleep},
    {NULL, NULL}
};

__declspec(dllexport) int luaopen_wintest(lua_State *L);
__declspec(dllexport) int luaopen_wintest(lua_State *L)
{
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    luaL_newlib(L, functions);
    return 1;
}
