#!/bin/sh
# make test-musl: Lua 5.4 from Debian's lua5.4 source package and the
# module, both built by musl-gcc (the C library of Alpine), then, under that
# Lua: the C unit tests (built by musl-gcc too), examples/demo.lua and
# spec/smoke/smoke.lua. Ends with "N passed, N failed, N skipped".
# Environment: MUSL (build dir), MUSL_CC, WERROR.
set -u
lua=$MUSL/lua
src=$lua/src
passed=0 failed=0 skipped=0

# One step: prints its output, counts it.
step() {
  name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "--- $name: ok"
  else failed=$((failed + 1)); echo "--- $name: FAILED"; fi
}

# The interpreter: Lua's own sources, its `make linux` flags (POSIX,
# dlopen, -Wl,-E so that modules find the API), no readline. Debian's
# luaconf.h includes the multiarch name its build generates.
build_lua() {
  [ -x "$lua/lua" ] && return 0
  printf '#define DEB_HOST_MULTIARCH "x86_64-linux-musl"\n' >"$src/lua5.4-deb-multiarch.h"
  # shellcheck disable=SC2046
  $MUSL_CC -std=gnu99 -O2 -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -o "$lua/lua" \
      $(ls "$src"/*.c | grep -v '/luac\.c$') -Wl,-E -lm -ldl
}

# Linux's own headers (linux/errqueue.h for the error queue), which
# Alpine has in its linux-headers package: musl-gcc searches only musl's
# include directory, so they are linked from Debian's linux-libc-dev.
kernel_headers() {
  k=$MUSL/kernel-headers
  mkdir -p "$k"
  ln -sfn /usr/include/linux "$k/linux"
  ln -sfn /usr/include/asm-generic "$k/asm-generic"
  ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$k/asm"
  echo "$k"
}

# The module and the C unit tests, by the project's Makefile.
build_module() {
  make -s --no-print-directory BUILD="$MUSL/module" WERROR="$WERROR" \
      CC="$MUSL_CC -isystem $(kernel_headers)" \
      LUA_CFLAGS="-I$src" "$MUSL/module/pktinfo/core.so" "$MUSL/module/test_c"
}

run_lua() {
  LUA_CPATH="$MUSL/module/?.so" LUA_PATH="lua/?.lua;spec/?.lua" "$lua/lua" "$@"
}

step "Lua 5.4 built by $MUSL_CC" build_lua || true
if [ ! -x "$lua/lua" ]; then echo "$passed passed, $((failed)) failed, 0 skipped"; exit 1; fi
interp=$(readelf -l "$lua/lua" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)]/\1/p')
echo "interpreter: $("$lua/lua" -v 2>&1), loader $interp"
case "$interp" in *musl*) ;; *) echo "not a musl binary"; failed=$((failed + 1)) ;; esac
step "module and C tests built by $MUSL_CC" build_module
step "C unit tests under musl" "$MUSL/module/test_c"
step "examples/demo.lua under musl Lua" run_lua examples/demo.lua
out=$(mktemp)
run_lua spec/smoke/smoke.lua | tee "$out"
set -- $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1 | grep -oE '[0-9]+')
rm -f "$out"
if [ $# -ge 3 ]; then passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
else failed=$((failed + 1)); fi
echo "musl: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
