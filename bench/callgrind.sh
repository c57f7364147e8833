#!/bin/sh
# `make bench-callgrind`: user-space instructions per datagram of each
# variant, from valgrind's callgrind (stable where nanoseconds are not).
# "program" is everything the process ran divided by N (the same fill and
# Lua loop in every receive row, so rows compare); "method" is the module
# function alone (inclusive), per call of recv/reply/sendto or per datagram
# of recvmany/sendmany. gso, nogso, gro, nogro: the bulk flows of
# 1,200-byte datagrams with and without offload (their "program" counts
# both sides). Usage: bench/callgrind.sh LUA [N]
set -eu
lua=${1:-lua5.4}
n=${2:-20000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '| %-10s | %14s | %14s |\n' variant "program Ir/dgram" "method Ir/dgram"
printf '|------------|-----------------:|----------------:|\n'
for mode in luasocket recv into many manyinto sendto reply sendmany gso nogso gro nogro; do
  valgrind --tool=callgrind --callgrind-out-file="$out/$mode" \
    "$lua" bench/profile.lua "$mode" "$n" >/dev/null 2>&1
  total=$(callgrind_annotate "$out/$mode" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  case $mode in
    luasocket) fn='' ;;
    recv|into) fn='pk_m_recv' ;;
    many|manyinto) fn='pk_m_recvmany' ;;
    sendto) fn='pk_m_sendto' ;;
    reply) fn='pk_m_reply' ;;
    sendmany|gso|nogso) fn='pk_m_sendmany' ;;
    gro|nogro) fn='pk_m_recvmany' ;;
  esac
  method=-
  if [ -n "$fn" ]; then
    method=$(callgrind_annotate --inclusive=yes "$out/$mode" 2>/dev/null \
      | awk -v f="src/[^ :]+[.]c:$fn( |\$)" '$0 ~ f {gsub(",", "", $1); print $1; exit}')
    [ -n "$method" ] && method=$((method / n)) || method=-
  fi
  printf '| %-10s | %16d | %15s |\n' "$mode" $((total / n)) "$method"
done
