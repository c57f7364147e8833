#!/bin/sh
# Lays out i386 Lua 5.4 and 5.1 in $1, for `make test-i386`, without
# installing i386 packages system-wide: lua5.4:i386 would replace the amd64
# interpreter (Multi-Arch: foreign) and lua-term has no Multi-Arch at all.
# The i386 .debs (the interpreters and their libraries and headers,
# busted's C modules, and LuaSocket, cqueues and luv for the specs) are
# fetched with `apt-get download` and unpacked with `dpkg -x`. Needs the
# i386 architecture in dpkg and gcc-multilib (the i386 C library and
# -m32): as root both are added if missing.
set -eu
root=$1
pkgs="lua5.4 liblua5.4-0 liblua5.4-dev lua5.1 liblua5.1-0 liblua5.1-0-dev
      libreadline8 libtinfo6 lua-term lua-filesystem lua-system lua-socket
      lua-cqueues libssl3 lua-luv libuv1"
[ -f "$root/.complete" ] && exit 0

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  else echo "needs root: $*" >&2; exit 1; fi
}
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  echo "adding the i386 architecture to dpkg"
  as_root dpkg --add-architecture i386
  as_root apt-get update -qq || true      # a partial index failure is not fatal
fi
if ! dpkg-query -W -f='${Status}' gcc-multilib 2>/dev/null | grep -q "install ok installed"; then
  echo "installing: gcc-multilib"
  as_root apt-get install -y -qq --no-install-recommends gcc-multilib >/dev/null
fi

debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
list=""
for p in $pkgs; do list="$list $p:i386"; done
# shellcheck disable=SC2086
( cd "$debs" && timeout 600 apt-get download -qq -o APT::Sandbox::User=root $list ) || {
  as_root apt-get update -qq || true
  # shellcheck disable=SC2086
  ( cd "$debs" && timeout 600 apt-get download -qq -o APT::Sandbox::User=root $list )
}
rm -rf "$root"
mkdir -p "$root"
for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
echo "i386 root in $root: $(ls "$debs" | sed 's/_i386\.deb//' | tr '\n' ' ')"
touch "$root/.complete"
