-- LuaRocks build description of release 0.2.0 (see CHANGELOG.md). `make rock`
-- packs it with a source tarball made from the tree into
-- build/rock/lua-pktinfo-0.2.0-1.src.rock, which installs with no download:
-- `luarocks install build/rock/lua-pktinfo-0.2.0-1.src.rock`.
-- The build table is the scm rockspec's (spec/63-cli_release_spec.lua checks).
rockspec_format = "3.0"
package = "lua-pktinfo"
version = "0.2.0-1"
source = {
  -- The project has no public home yet (example.invalid): `make rock`
  -- puts this tarball inside the source rock.
  url = "https://example.invalid/lua-pktinfo/lua-pktinfo-0.2.0.tar.gz",
  dir = "lua-pktinfo-0.2.0",
}
description = {
  summary = "UDP and raw sockets that report where each datagram arrived (IP_PKTINFO) and reply from there",
  detailed = [[
    Datagram and raw sockets whose recv() returns, with each packet, the
    local address it was sent to and the interface it arrived on
    (IP_PKTINFO / IPV6_PKTINFO), and whose reply() answers from exactly that
    address and interface. All control-message handling is in C. The
    pktinfo command (listen, echo, send, ifaces) shows the same from a
    shell, for quick network prototyping.
  ]],
  license = "MIT",
  labels = { "networking", "udp", "sockets" },
}
dependencies = {
  "lua >= 5.1",
  -- for the pktinfo command only (Debian: lua-argparse, lua-cjson)
  "argparse",
  "lua-cjson",
}
build = {
  type = "builtin",
  modules = {
    ["pktinfo"] = "lua/pktinfo.lua",
    ["pktinfo.core"] = {
      sources = {
        "src/lpktinfo.c", "src/lsocket.c", "src/largs.c", "src/lrecv.c", "src/lsend.c",
        "src/liface.c", "src/lgw.c", "src/lgro.c",
        "src/pk_addr.c", "src/pk_cmsg.c", "src/pk_options.c", "src/pk_errors.c",
        "src/pk_sockopt.c", "src/pk_sock_posix.c", "src/pk_batch.c",
        "src/pk_iface.c", "src/pk_iface_posix.c",
        "src/pk_errq.c", "src/pk_gw_posix.c", "src/pk_offload.c", "src/pk_split.c",
      },
      defines = { "_GNU_SOURCE" },
      incdirs = { "src" },
    },
  },
  -- The command-line tool (luarocks wraps it to run with this tree's Lua).
  install = {
    bin = { pktinfo = "bin/pktinfo" },
  },
  -- LuaCATS annotations for editors; kept with the rock, not a module.
  copy_directories = { "types" },
  platforms = {
    win32 = {
      modules = {
        ["pktinfo.core"] = {
          sources = {
            "src/lpktinfo.c", "src/lsocket.c", "src/largs.c", "src/lrecv.c", "src/lsend.c",
            "src/liface.c", "src/lgw.c", "src/lgro.c",
            "src/pk_addr.c", "src/pk_cmsg.c", "src/pk_options.c", "src/pk_errors.c",
            "src/pk_sockopt.c", "src/pk_sock_win.c", "src/pk_batch.c",
            "src/pk_iface.c", "src/pk_iface_win.c", "src/pk_errq.c",
            "src/pk_offload.c", "src/pk_split.c",
          },
          defines = { "WIN32_LEAN_AND_MEAN", "_WIN32_WINNT=0x0600" },
          incdirs = { "src" },
          libraries = { "ws2_32", "iphlpapi" },
        },
      },
    },
  },
}
