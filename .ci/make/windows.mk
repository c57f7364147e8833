# Windows: `make windows` cross-compiles $(WIN_BUILD)/pktinfo/core.dll with
# mingw-w64 against a Lua 5.4 (lua54.dll, lua.exe) built here from Debian's
# lua5.4 source package; `make test-windows` runs the Windows specs and the
# C test of the Winsock control-message bytes under Wine.
# Needs: gcc-mingw-w64-x86-64, dpkg-dev (for apt-get source); wine, wine64.

WIN_BUILD ?= $(BUILD)/windows
WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_CFLAGS ?= -O2
WIN_LUA = $(WIN_BUILD)/lua
WIN_LUA_CORE = $(filter-out $(WIN_LUA)/src/lua.c $(WIN_LUA)/src/luac.c,\
               $(wildcard $(WIN_LUA)/src/*.c))
WIN_LIBS = -lws2_32 -liphlpapi
WIN_ALL_CFLAGS = -std=c99 $(WARNINGS) $(WERROR) -I$(WIN_LUA)/src -Isrc $(WIN_CFLAGS)
# The module's sources with the Winsock platform layer instead of POSIX.
WIN_CORE_SRC = $(filter-out src/pk_sock_posix.c src/pk_iface_posix.c src/pk_gw_posix.c,$(CORE_SRC)) \
               src/pk_sock_win.c src/pk_iface_win.c
WIN_SRC = $(WIN_CORE_SRC) $(BINDING_SRC)
WIN_DLL = $(WIN_BUILD)/pktinfo/core.dll
WIN_TESTS = $(WIN_BUILD)/test_cmsg_win.exe $(WIN_BUILD)/wintest.dll

.PHONY: windows test-windows deps-windows

windows: deps-windows $(WIN_BUILD)/lua.exe $(WIN_DLL)

deps-windows:
	@sh spec/windows/deps.sh build

# Lua's C sources, fetched once (see spec/windows/fetch-lua.sh).
$(WIN_LUA)/src/lua.h:
	sh spec/windows/fetch-lua.sh $(WIN_LUA)

# lua54.dll and lua.exe, as Lua's own `make mingw` builds them.
$(WIN_BUILD)/lua54.dll: $(WIN_LUA)/src/lua.h
	$(MAKE) --no-print-directory WIN_BUILD=$(WIN_BUILD) win-lua-dll

.PHONY: win-lua-dll
win-lua-dll:
	$(WIN_CC) -std=gnu99 -O2 -DLUA_BUILD_AS_DLL -DLUA_COMPAT_5_3 -shared \
	    -static-libgcc -s -o $(WIN_BUILD)/lua54.dll $(WIN_LUA_CORE)

$(WIN_BUILD)/lua.exe: $(WIN_BUILD)/lua54.dll
	$(WIN_CC) -std=gnu99 -O2 -DLUA_BUILD_AS_DLL -static-libgcc -s \
	    -o $@ $(WIN_LUA)/src/lua.c $(WIN_BUILD)/lua54.dll

$(WIN_DLL): $(WIN_SRC) src/*.h $(WIN_BUILD)/lua54.dll
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_ALL_CFLAGS) -shared -static-libgcc -o $@ $(WIN_SRC) \
	    $(WIN_BUILD)/lua54.dll $(WIN_LIBS)

# The control-message bytes the Windows encoder writes (a C test, no Lua).
$(WIN_BUILD)/test_cmsg_win.exe: spec/windows/test_cmsg_win.c spec/c/*.h $(WIN_CORE_SRC) src/*.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_ALL_CFLAGS) -static-libgcc -o $@ \
	    spec/windows/test_cmsg_win.c $(WIN_CORE_SRC) $(WIN_LIBS)

# Test helper module: stream sockets and non-socket handles for the specs.
$(WIN_BUILD)/wintest.dll: spec/windows/wintest.c $(WIN_BUILD)/lua54.dll
	$(WIN_CC) $(WIN_ALL_CFLAGS) -shared -static-libgcc -o $@ \
	    spec/windows/wintest.c $(WIN_BUILD)/lua54.dll $(WIN_LIBS)

test-windows: windows $(WIN_TESTS)
	@sh spec/windows/deps.sh test
	@WIN_BUILD=$(WIN_BUILD) sh spec/windows/run.sh
