-- The rules of Microsoft's IP_PKTINFO page, as the README ("The IP_PKTINFO rules") maps them to Lua.
local pktinfo = require "pktinfo"
local net = require "helpers.net"
local gate = require "helpers.gate"
local socket = require "socket"

describe("IP_PKTINFO page rules", function()
  it("is disabled by default", function()
    for _, family in ipairs { "inet", "inet6" } do
      local s = assert(pktinfo.udp(family))
      assert.is_false(s:getpktinfo(), family)
      s:close()
    end
    local on = assert(pktinfo.udp("inet", { pktinfo = true }))
    assert.is_true(on:getpktinfo())
    on:close()
  end)

  it("takes a boolean by truthiness and reads it back from the kernel", function()
    local s = assert(pktinfo.udp())
    assert.is_true(s:setpktinfo(true)); assert.is_true(s:getpktinfo())
    assert.is_true(s:setpktinfo(false)); assert.is_false(s:getpktinfo())
    assert.is_true(s:setpktinfo(1)); assert.is_true(s:getpktinfo())     -- any non-false value is on
    assert.is_true(s:setpktinfo(nil)); assert.is_false(s:getpktinfo())
    assert.has_error(function() s:setpktinfo() end)
    -- read from the kernel, not cached: another owner of the descriptor
    -- turning it off is seen
    local other = assert(pktinfo.wrap(s:getfd()))
    assert(other:setpktinfo(true)); assert.is_true(s:getpktinfo())
    assert(other:setpktinfo(false)); assert.is_false(s:getpktinfo())
    other:close(); s:close()
  end)

  it("exists only for datagram and raw sockets: ENOPROTOOPT for a stream socket", function()
    local t = assert(socket.tcp4())
    local w = assert(pktinfo.wrap(t))
    assert.matches("^pktinfo%.stream", tostring(w))
    local ok, msg, name = w:setpktinfo(true)
    assert.is_nil(ok); assert.is_string(msg); assert.equal("ENOPROTOOPT", name)
    ok, msg, name = w:getpktinfo()
    assert.is_nil(ok); assert.equal("ENOPROTOOPT", name)
    w:close(); t:close()
  end)

  it("answers ENOTSOCK for a descriptor that is not a socket", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    local fd
    for n, target in pairs(net.open_fds() or {}) do if target == path then fd = n end end
    if not fd then f:close(); os.remove(path); pending("needs /proc to find a file's descriptor") end
    local ok, _, name = pktinfo.wrap(fd)
    f:close(); os.remove(path)
    assert.is_nil(ok); assert.equal("ENOTSOCK", name)
  end)

  it("never shows WSANOTINITIALISED: the module starts the socket layer itself", function()
    -- Winsock answers WSANOTINITIALISED until WSAStartup; the module calls
    -- it when loaded. POSIX has no such start, so what is checked here is
    -- the part that carries over: a fresh interpreter that loads nothing
    -- but pktinfo (not LuaSocket, which starts Winsock on Windows, and not
    -- this busted process, where other specs have made sockets) gets a
    -- working socket from its very first call. The proof that the module
    -- itself starts Winsock (in a fresh process socket() fails with
    -- WSANOTINITIALISED until require "pktinfo") is in
    -- spec/windows/10-module_wspec.lua, run by `make test-windows`.
    local code = "assert(not package.loaded.socket) local p = require 'pktinfo' " ..
      "local s = assert(p.udp()) print(s:bind('127.0.0.1', 0), s:setpktinfo(true), " ..
      "s:getpktinfo(), package.loaded.socket == nil)"
    local f = assert(io.popen(("LUA_CPATH=%q LUA_PATH=%q %s -e %q 2>&1"):format(
      package.cpath, package.path, net.lua(), code)))
    local out = f:read("*a"); f:close()
    assert.equal("true\ttrue\ttrue\ttrue\n", out)
  end)

  it("delivers addr and ifindex for IPv4 datagrams on a dual-stack socket (both options on)", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s, port = net.server("inet6")
    assert.is_true(s:getpktinfo())
    net.send("127.0.0.6", port, "v4 on dual")
    local _, info = s:recv()
    assert.equal("127.0.0.6", info.addr); assert.equal(pktinfo.ifindex("lo"), info.ifindex)
    assert(s:setpktinfo(false))
    assert.is_false(s:getpktinfo())
    net.send("127.0.0.6", port, "off")
    _, info = s:recv()
    assert.is_nil(info.addr)
    s:close()
  end)

  it("enables only IPV6 packet info on a v6only socket, where IPv4 cannot arrive", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s = assert(pktinfo.udp("inet6", { v6only = true, pktinfo = true }))
    assert.is_true(s:getpktinfo())
    s:close()
  end)

  it("ignores an EINVAL for IP_PKTINFO on a dual-stack socket only when IPv4 is disabled", function()
    -- IPv4 cannot be disabled for one process on Linux, so the rule is
    -- checked in the C unit tests (spec/c/test_c.c, run by 00-c_spec.lua):
    -- test_ipv4_disabled_rule with stand-in probes, and
    -- test_ipv4_half_real_path through the real pk_sock_setopt ->
    -- set_ipv4_half on a dual-stack socket, where the kernel really refuses
    -- the IPv4 half (TTL 0) with EINVAL and only the probe is a stand-in.
    local build = os.getenv("PKTINFO_BUILD") or "build"
    local f = assert(io.popen(build .. "/test_c 2>&1"))
    local out = f:read("*a"); f:close()
    assert.not_matches("FAIL[^\n]*IPv4", out)   -- no FAIL line for the rule
    assert.matches(" 0 failed", out, 1, true)
  end)
end)
