#!/bin/sh
# Makes sure the Debian packages `make windows` (build) or
# `make test-windows` (test) need are installed: as root it installs what
# is missing, otherwise it prints the command and fails.
set -eu
case "${1:-build}" in
  build) pkgs="gcc-mingw-w64-x86-64 dpkg-dev make" ;;
  test)  pkgs="wine wine64" ;;
  *) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac
command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian: the tools are checked when used
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  timeout 1200 apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "missing Debian packages:$missing" >&2
  echo "run:  sudo apt-get install -y$missing" >&2
  exit 1
fi
