#!/bin/sh
# make cross: compiles every source of the module for each target with
# zig cc, the project's warnings and -Werror, against Lua 5.4's headers;
# links core.so for each macOS target as a loadable module
# (-shared -undefined dynamic_lookup: Lua's symbols come from the host
# interpreter) and links a probe program against it, which fails unless
# luaopen_pktinfo_core is exported. One line per target and per link, then
# "N passed, N failed, N skipped".
# Environment: ZIG, OUT (build dir), LUAINC, TARGETS, POSIX_SRC, WIN_SRC,
# CFLAGS (warnings and -Werror included).
set -u
passed=0 failed=0
export ZIG_GLOBAL_CACHE_DIR="$OUT/zig-cache" ZIG_LOCAL_CACHE_DIR="$OUT/zig-cache"

# Compiles the sources for target $1 into $OUT/$1; prints the errors.
compile() {
  t=$1
  case "$t" in *windows*) src=$WIN_SRC ;; *) src=$POSIX_SRC ;; esac
  rm -rf "$OUT/$t"
  mkdir -p "$OUT/$t"
  ok=0 n=0
  for f in $src; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! "$ZIG" cc -target "$t" $CFLAGS -I"$LUAINC" -Isrc -c "$f" \
         -o "$OUT/$t/$(basename "$f" .c).o" 2>"$OUT/$t/errors"; then
      sed 's/^/    /' "$OUT/$t/errors" | head -n 20
      ok=1
    fi
  done
  [ $ok = 0 ] && echo "compile $t: ok ($n files)" || echo "compile $t: FAILED"
  return $ok
}

# Links $OUT/$1/core.so as a macOS module and checks its export.
bundle() {
  t=$1 dir=$OUT/$1
  "$ZIG" cc -target "$t" -shared -undefined dynamic_lookup -o "$dir/core.so" \
      "$dir"/*.o 2>"$dir/errors" || { sed 's/^/    /' "$dir/errors"; return 1; }
  printf 'int luaopen_pktinfo_core(void *L);\nint main(void) { return luaopen_pktinfo_core(0) != 0; }\n' \
      >"$dir/probe.c"
  "$ZIG" cc -target "$t" "$dir/probe.c" "$dir/core.so" -o "$dir/probe" 2>"$dir/errors" \
      || { echo "    luaopen_pktinfo_core is not exported:"; sed 's/^/    /' "$dir/errors"; return 1; }
  echo "bundle $t: $dir/core.so ($(wc -c <"$dir/core.so") bytes), exports luaopen_pktinfo_core"
}

for t in $TARGETS; do
  if compile "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); continue; fi
  case "$t" in
    *macos*)
      if bundle "$t"; then passed=$((passed + 1))
      else echo "bundle $t: FAILED"; failed=$((failed + 1)); fi ;;
  esac
done
echo "cross: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
