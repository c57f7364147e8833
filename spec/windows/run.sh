#!/bin/sh
# Runs the Windows tests under Wine, headless, in a throwaway WINEPREFIX:
# the C test of the Winsock control-message bytes, then the Lua specs
# (spec/windows/*_wspec.lua) with the Windows lua.exe and runner.lua.
# Closes with one line "N passed, N failed, N skipped"; exits non-zero on a
# failure. Used by `make test-windows`; WIN_BUILD says where the build is.
set -u
build=${WIN_BUILD:-build/windows}
wine=$(command -v wine64 || command -v wine || true)
[ -n "$wine" ] || { echo "wine is not installed (apt-get install wine wine64)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

prefix=$(mktemp -d "${TMPDIR:-/tmp}/pktinfo-wine.XXXXXX")
out=$(mktemp)
cleanup() {
  WINEPREFIX=$prefix wineserver -k >/dev/null 2>&1
  rm -rf "$prefix" "$out"
}
trap cleanup EXIT INT TERM
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
export WINEARCH=win64

# Windows paths for Lua's searchers (LoadLibrary wants backslashes).
winpath() { echo "$1" | sed 's|/|\\|g'; }
export LUA_CPATH="$(winpath "$build")\\?.dll;$(winpath "$build")\\wintest.dll"
export LUA_PATH="lua\\?.lua;spec\\?.lua"
unset LUA_CPATH_5_4 LUA_PATH_5_4 LUA_INIT LUA_INIT_5_4

passed=0 failed=0 skipped=0
# Adds the counts of the last "N passed, N failed[, N skipped]" in $out.
add_counts() {
  line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+')
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
  [ "$1" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))
}

echo "wine: $("$wine" --version 2>/dev/null), prefix $prefix"
timeout 300 "$wine" wineboot -i >/dev/null 2>&1 || true

echo "--- control-message bytes (test_cmsg_win.exe)"
timeout 120 "$wine" "$build/test_cmsg_win.exe" 2>/dev/null | tr -d '\r' | tee "$out"
add_counts "$?"

echo "--- specs (lua.exe spec/windows/runner.lua)"
timeout 600 "$wine" "$build/lua.exe" spec/windows/runner.lua spec/windows/*_wspec.lua \
  2>&1 | tr -d '\r' | grep -v '^wine: ' | tee "$out"
add_counts "$?"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
