#!/bin/sh
# make test-i386: the whole spec (.ci/busted, as `make test` runs it) under
# i386 Lua 5.4 and 5.1 from .ci/i386/root.sh, with the module and the C
# unit tests built by gcc -m32. One "N passed, N failed, N skipped" line
# per Lua, then the sum. Environment: I386 (build dir), LUAS, WERROR.
#
# Around the specs: bin/lua5.x runs the i386 interpreter with the i386
# libraries on LD_LIBRARY_PATH and the i386 Lua C modules at the end of
# LUA_CPATH (busted itself starts under the host's Lua, which must not see
# them). It passes its own path as argv[0], so the specs, which start
# helper processes with the interpreter that runs them (arg[-1]), start
# them through it too, whatever LUA_CPATH they give. bin/cc and bin/gcc compile
# -m32 (for the C the specs build: LuaRocks, the signal helper) except for
# LuaJIT, whose only user is nginx's worker, a host (amd64) process.
set -u
root=$I386/root
bin=$I386/bin
mkdir -p "$bin"
lib="$PWD/$root/usr/lib/i386-linux-gnu:$PWD/$root/lib/i386-linux-gnu"
for v in 5.4 5.1; do
  cat >"$bin/lua$v" <<WRAP
#!/bin/bash
LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
LUA_CPATH="\${LUA_CPATH:-;;};$PWD/$root/usr/lib/i386-linux-gnu/lua/$v/?.so"
export LD_LIBRARY_PATH LUA_CPATH
exec -a "\$0" "$PWD/$root/usr/bin/lua$v" "\$@"
WRAP
  chmod +x "$bin/lua$v"
done
for c in cc gcc; do
  cat >"$bin/$c" <<WRAP
#!/bin/sh
case " \$* " in *luajit*) exec /usr/bin/gcc "\$@" ;; esac
exec /usr/bin/gcc -m32 -idirafter "$PWD/$root/usr/include/i386-linux-gnu" "\$@"
WRAP
  chmod +x "$bin/$c"
done
unset MAKEFLAGS MAKELEVEL MFLAGS

# An ELF file's class and machine, e.g. "ELF32 Intel 80386".
elf() {
  readelf -h "$1" | sed -n 's/^ *\(Class\|Machine\): *//p' | tr '\n' ' '
}

# Whether this machine runs 32-bit x86 programs at all: some kernels
# cannot (exec fails with "Exec format error"). There each Lua is pending,
# with that reason, once its module and C tests have been built.
why=
printf 'int main(void) { return 0; }\n' >"$I386/probe.c"
if ! gcc -m32 -o "$I386/probe" "$I386/probe.c"; then
  why="gcc -m32 cannot build a program"
elif ! out=$("$I386/probe" 2>&1); then
  why="this machine cannot run 32-bit x86 programs: $out"
fi

passed=0 failed=0 skipped=0 status=0
for lua in $LUAS; do
  v=${lua#lua}
  build=$I386/$lua
  if [ -n "$why" ]; then
    echo "=== i386 $lua ($(elf "$root/usr/bin/$lua"))"
  else
    echo "=== i386 $lua: $("$bin/$lua" -e 'io.write(_VERSION)') ($(elf "$root/usr/bin/$lua"))"
  fi
  make -s --no-print-directory BUILD="$build" CC="gcc -m32" WERROR="$WERROR" \
      LUA_CFLAGS="-I$root/usr/include/$lua -I$root/usr/include/i386-linux-gnu" \
      "$build/pktinfo/core.so" "$build/test_c" || { failed=$((failed + 1)); status=1; continue; }
  echo "module: $(elf "$build/pktinfo/core.so")"
  if [ -n "$why" ]; then
    echo "pending: the spec under i386 $lua (module and C tests built): $why"
    skipped=$((skipped + 1))
    continue
  fi
  log=$(mktemp)
  PATH="$PWD/$bin:$PATH" LUA="$PWD/$bin/$lua" BUILD="$build" sh .ci/busted 2>&1 | tee "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  set -- $(echo "$line" | grep -oE '[0-9]+')
  if [ $# -ge 3 ]; then
    passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
    [ "$2" -eq 0 ] || status=1
  else
    failed=$((failed + 1)) status=1
  fi
done
echo "i386: $passed passed, $failed failed, $skipped skipped"
exit $status
