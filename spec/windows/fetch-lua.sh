#!/bin/sh
# Puts Lua 5.4's C sources in $1/src (used by `make windows` to build
# lua54.dll and lua.exe with mingw): from $WIN_LUA_SRC_DIR if set (any
# Lua 5.4 source tree), else from Debian's lua5.4 source package, fetched
# with `apt-get source` after adding a deb-src entry if there is none.
# Nothing of Lua is committed to this repository.
set -eu
dest=$1
[ -f "$dest/src/lua.h" ] && exit 0
mkdir -p "$dest"
if [ -n "${WIN_LUA_SRC_DIR:-}" ]; then
  cp -R "$WIN_LUA_SRC_DIR/src" "$dest/src"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then
  echo "need apt-get and dpkg-source (dpkg-dev), or WIN_LUA_SRC_DIR=<a Lua 5.4 source tree>" >&2
  exit 1
fi

has_deb_src() {
  grep -rqsE '^(deb-src |Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_deb_src; then
  if [ "$(id -u)" != 0 ]; then
    echo "no deb-src entry in /etc/apt; as root, add one and run apt-get update," >&2
    echo "or set WIN_LUA_SRC_DIR=<a Lua 5.4 source tree>" >&2
    exit 1
  fi
  # The same archive as the binary entries, for sources.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/pktinfo-deb-src.sources
  else
    grep -hE '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
      > /etc/apt/sources.list.d/pktinfo-deb-src.list
  fi
  apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && timeout 600 apt-get source -qq lua5.4 >/dev/null 2>&1 ) || {
  [ "$(id -u)" = 0 ] && apt-get update -qq
  ( cd "$work" && timeout 600 apt-get source -qq lua5.4 )
}
tree=$(find "$work" -maxdepth 3 -name lua.h -path '*/src/*' | head -n 1)
[ -n "$tree" ] || { echo "apt-get source lua5.4 gave no src/lua.h" >&2; exit 1; }
cp -R "$(dirname "$tree")" "$dest/src"
echo "Lua sources: $(basename "$(dirname "$(dirname "$tree")")") (Debian lua5.4 source package)"
