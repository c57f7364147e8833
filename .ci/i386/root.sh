#!/bin/sh
# Lays out i386 Lua 5.4 and 5.1 in $1, for `make test-i386`, without
# touching the system's packages or apt setup: lua5.4:i386 would replace
# the amd64 interpreter (Multi-Arch: foreign), lua-term has no Multi-Arch,
# and a foreign architecture in dpkg makes every later `apt-get update`
# fetch (and possibly fail on) its indexes. So apt runs here with i386
# added on its command line and its lists in $1/apt, fetches the i386
# .debs (the interpreters, their libraries and headers, busted's C modules,
# LuaSocket, cqueues and luv for the specs) with `apt-get download`, and
# unpacks them with `dpkg -x`. Needs gcc-multilib (the i386 C library and
# -m32), installed as root if missing.
set -eu
root=$1
pkgs="lua5.4 liblua5.4-0 liblua5.4-dev lua5.1 liblua5.1-0 liblua5.1-0-dev
      libreadline8 libtinfo6 lua-term lua-filesystem lua-system lua-socket
      lua-cqueues libssl3 lua-luv libuv1 lua-cjson"
[ -f "$root/.complete" ] && exit 0
export DEBIAN_FRONTEND=noninteractive

if ! dpkg-query -W -f='${Status}' gcc-multilib 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing gcc-multilib.  run:  sudo apt-get install -y gcc-multilib" >&2
    exit 1
  fi
  echo "installing: gcc-multilib"
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends gcc-multilib >/dev/null
fi

rm -rf "$root"
state=$root/apt
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$root/debs"
apt_i386="apt-get -qq -o Dir::State::Lists=$PWD/$state/lists -o Dir::Cache=$PWD/$state/cache
  -o APT::Architectures::=amd64 -o APT::Architectures::=i386 -o APT::Sandbox::User=root"
# A mirror may serve one index inconsistently (then apt says so and exits
# 100); what is needed comes from the others, and the download says if not.
# shellcheck disable=SC2086
timeout 600 $apt_i386 update || echo "(apt-get update reported a failed index; going on)"
list=""
for p in $pkgs; do list="$list $p:i386"; done
# shellcheck disable=SC2086
( cd "$root/debs" && timeout 600 $apt_i386 download $list )
for d in "$root"/debs/*.deb; do dpkg -x "$d" "$root"; done
echo "i386 root in $root: $(ls "$root/debs" | sed 's/_i386\.deb//' | tr '\n' ' ')"
rm -rf "$root/debs" "$state"
touch "$root/.complete"
