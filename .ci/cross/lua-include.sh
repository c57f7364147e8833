#!/bin/sh
# Copies Lua 5.4's C headers from Debian's liblua5.4-dev into $1, for
# compiling the module for other platforms (make cross): luaconf.h includes
# the Debian multiarch header, which comes along. Nothing of Lua is
# committed. `make deps-build` installs liblua5.4-dev.
set -eu
dest=$1
[ -f "$dest/lua.h" ] && exit 0
src=/usr/include/lua5.4
[ -f "$src/lua.h" ] || { echo "no $src/lua.h: install liblua5.4-dev" >&2; exit 1; }
mkdir -p "$dest"
cp "$src"/lua.h "$src"/luaconf.h "$src"/lauxlib.h "$src"/lualib.h "$dest"/
multi=$(find /usr/include -maxdepth 2 -name lua5.4-deb-multiarch.h | head -n 1)
[ -n "$multi" ] && cp "$multi" "$dest"/
echo "Lua headers: liblua5.4-dev $(dpkg-query -W -f='${Version}' liblua5.4-dev 2>/dev/null || echo "(not from dpkg)")"
