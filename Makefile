# lua-pktinfo. `make` builds build/pktinfo/core.so for $(LUA); `make demo`
# and `make test` first install missing Debian packages (as root) or print
# the command that would. See README.md.

LUA ?= lua5.4
PKG_CONFIG ?= pkg-config
BUILD ?= build
PREFIX ?= /usr/local
# Where `make install` puts the module (LuaRocks-style layout per version).
# (LuaJIT's pkg-config file has no major_version, only abiver: 5.1.)
LUA_VERSION ?= $(or $(shell $(PKG_CONFIG) --variable=major_version $(LUA) 2>/dev/null),$(shell $(PKG_CONFIG) --variable=abiver $(LUA) 2>/dev/null),5.4)
LUA_CMOD ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
LUA_LMOD ?= $(PREFIX)/share/lua/$(LUA_VERSION)

LUA_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(LUA) 2>/dev/null)
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -pedantic -Wshadow -Wcast-qual \
           -Wmissing-prototypes -Wstrict-prototypes
# `make WERROR=-Werror` (CI does) turns every warning into an error.
WERROR ?=
ALL_CFLAGS = -std=c99 -D_GNU_SOURCE -fPIC -fvisibility=hidden $(WARNINGS) \
             $(WERROR) $(LUA_CFLAGS) $(CFLAGS)

# Plain C (no lua.h) and the binding over it.
CORE_SRC = src/pk_addr.c src/pk_cmsg.c src/pk_options.c src/pk_errors.c \
           src/pk_sockopt.c src/pk_sock_posix.c src/pk_batch.c \
           src/pk_iface.c src/pk_iface_posix.c src/pk_errq.c src/pk_gw_posix.c \
           src/pk_offload.c src/pk_split.c
BINDING_SRC = src/lpktinfo.c src/lsocket.c src/largs.c src/lrecv.c src/lsend.c \
              src/liface.c src/lgw.c src/lgro.c
SRC = $(CORE_SRC) $(BINDING_SRC)
OBJ = $(SRC:src/%.c=$(BUILD)/obj/%.o)
MODULE = $(BUILD)/pktinfo/core.so
CTESTS = $(BUILD)/test_c

RUN_ENV = LUA_CPATH='$(BUILD)/?.so;;' LUA_PATH='lua/?.lua;spec/?.lua;;'

.PHONY: all demo test test-c install uninstall clean deps-build deps-test

all: deps-build $(MODULE)

deps-build:
	@LUA=$(LUA) sh .ci/deps build

deps-test:
	@LUA=$(LUA) sh .ci/deps test

$(BUILD)/obj/%.o: src/%.c src/*.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(MODULE): $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(OBJ)

# C unit tests of the plain-C layer (address text, control messages).
CTEST_SRC = $(wildcard spec/c/*.c)
$(CTESTS): $(CTEST_SRC) spec/c/*.h $(CORE_SRC) src/*.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -D_GNU_SOURCE $(WARNINGS) $(WERROR) $(CFLAGS) -Isrc \
	    -o $@ $(CTEST_SRC) $(CORE_SRC)

test-c: $(CTESTS)
	$(CTESTS)

demo: deps-test $(MODULE)
	@$(RUN_ENV) $(LUA) examples/demo.lua

test: deps-test $(MODULE) $(CTESTS)
	@LUA=$(LUA) BUILD=$(BUILD) sh .ci/busted

# The pktinfo command goes to $(PREFIX)/bin, its first line naming $(LUA).
install: $(MODULE)
	install -d $(DESTDIR)$(LUA_CMOD)/pktinfo $(DESTDIR)$(LUA_LMOD) $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(MODULE) $(DESTDIR)$(LUA_CMOD)/pktinfo/core.so
	install -m 0644 lua/pktinfo.lua $(DESTDIR)$(LUA_LMOD)/pktinfo.lua
	sed '1s|^#!.*|#!/usr/bin/env $(LUA)|' bin/pktinfo >$(DESTDIR)$(PREFIX)/bin/pktinfo
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/pktinfo

uninstall:
	rm -f $(DESTDIR)$(LUA_CMOD)/pktinfo/core.so $(DESTDIR)$(LUA_LMOD)/pktinfo.lua \
	    $(DESTDIR)$(PREFIX)/bin/pktinfo

clean:
	rm -rf $(BUILD)

# Further targets (bench, windows, matrix, checks) live one concern per
# file in .ci/make/.
-include $(wildcard .ci/make/*.mk)
