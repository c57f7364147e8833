-- Gateways on one host (README, "Gateways"): connected sockets, the
-- setsockopt/getsockopt escape hatch, ICMP errors from loopback
-- (recverr, and what recv, recvmany and sends do while errors are
-- queued), and the gateway options read back from the kernel at both IP
-- levels. Linux numbers of socket options are used where the spec reads
-- the kernel directly. The tests that need root or a namespace are in
-- spec/23-gateway_net_spec.lua and spec/24-tproxy_spec.lua, and here the
-- capability ones, pending without root.
local pktinfo = require "pktinfo"
local gate = require "helpers.gate"
local net = require "helpers.net"
local gw = require "helpers.gw_rig"

-- Linux option numbers (asm-generic/socket.h, linux/in.h, linux/in6.h).
local SO_RCVBUF, SO_BINDTODEVICE, SO_MARK = 8, 25, 36
local IP_TTL, IP_MTU_DISCOVER, IP_RECVERR, IP_FREEBIND, IP_TRANSPARENT, IP_RECVORIGDSTADDR = 2, 10, 11, 15, 19, 20
local IPV6_UNICAST_HOPS, IPV6_MTU_DISCOVER, IPV6_RECVERR, IPV6_RECVORIGDSTADDR, IPV6_TRANSPARENT, IPV6_FREEBIND =
  16, 23, 25, 74, 75, 78
local UDP_CORK = 1

local FAMILIES = {
  { "IPv4", "inet", "127.0.0.1" },
  { "IPv6", "inet6", "::1" },
  { "IPv4 on a dual-stack socket", "inet6", "127.0.0.1" },
}

--- A receiver bound to addr (its family) on a free port; returns it and the port.
local function receiver(addr, opts)
  local s = assert(pktinfo.udp(addr:find(":") and "inet6" or "inet", opts))
  assert(s:bind(addr, 0))
  s:settimeout(1)
  local _, port = s:getsockname()
  return s, port
end

--- A port on addr where nothing listens (bound, then closed).
local function closed_port(addr)
  local s, port = receiver(addr)
  s:close()
  return port
end

describe("connected sockets: setpeername, getpeername, send", function()
  for _, case in ipairs(FAMILIES) do
    local name, family, lo = case[1], case[2], case[3]
    it(name .. ": send goes to the peer; recv takes only the peer's datagrams", function()
      local peer, pport = receiver(lo)
      local other = receiver(lo)
      local c = assert(pktinfo.udp(family)); c:settimeout(1)
      assert.is_true(c:setpeername(lo, pport))
      local _, cport = c:getsockname()
      assert.same({ lo, pport, lo:find(":") and "inet6" or "inet" }, { c:getpeername() })
      assert.equal(5, c:send("hello"))
      local d, info = peer:recv()
      assert.equal("hello", d); assert.equal(cport, info.port)
      -- another socket's datagram is dropped by the kernel; the peer's arrives
      assert(other:sendto("not from the peer", lo, cport))
      assert(peer:sendto("from the peer", lo, cport))
      assert.equal("from the peer", (c:recv()))
      c:settimeout(0)
      assert.same({ nil, "timeout", "ETIMEDOUT" }, { c:recv() })
      peer:close(); other:close(); c:close()
    end)
  end

  it("send(data, out): ttl and tos for that datagram, built for the peer's IP version", function()
    local r4, p4 = receiver("127.0.0.1")
    local r6, p6 = receiver("::1")
    for _, r in ipairs { r4, r6 } do assert(r:setoption("recvttl", true)); assert(r:setoption("recvtos", true)) end
    local dual = assert(pktinfo.udp("inet6"))
    assert(dual:setpeername("127.0.0.1", p4))
    assert(dual:send("v4", { ttl = 9, tos = 0x20 }))
    local _, info = r4:recv()
    assert.same({ 9, 0x20 }, { info.ttl, info.tos })
    local v6 = assert(pktinfo.udp("inet6"))
    assert(v6:setpeername("::1", p6))
    assert(v6:send("v6", { ttl = 7 }))
    _, info = r6:recv()
    assert.equal(7, info.ttl)
    r4:close(); r6:close(); dual:close(); v6:close()
  end)

  it("not connected: getpeername ENOTCONN, send EDESTADDRREQ (with out too), getoption('mtu') ENOTCONN", function()
    local s = assert(pktinfo.udp("inet6"))
    assert.same({ nil, "Transport endpoint is not connected", "ENOTCONN" }, { s:getpeername() })
    assert.same({ nil, "Destination address required", "EDESTADDRREQ" }, { s:send("x") })
    assert.same({ nil, "Destination address required", "EDESTADDRREQ" }, { s:send("x", { ttl = 3 }) })
    assert.same({ nil, "Transport endpoint is not connected", "ENOTCONN" }, { s:getoption("mtu") })
    s:close()
  end)

  it("getoption('mtu') on a connected socket is its path MTU (loopback's, here)", function()
    local f = assert(io.open("/sys/class/net/lo/mtu"))
    local lo_mtu = tonumber(f:read("*l")); f:close()
    local s = assert(pktinfo.udp("inet"))
    assert(s:setpeername("127.0.0.1", 9))
    assert.equal(math.min(lo_mtu, 65535), s:getoption("mtu"))
    local s6 = assert(pktinfo.udp("inet6"))
    assert(s6:setpeername("::1", 9))
    assert.equal(lo_mtu, s6:getoption("mtu"))
    s:close(); s6:close()
  end)

  it("setpeername('*') dissolves it: anyone's datagrams arrive again; a port given to bind stays, a picked one goes", function()
    local peer, pport = receiver("127.0.0.1")
    local other = receiver("127.0.0.1")
    local cport = closed_port("127.0.0.1")
    local c = assert(pktinfo.udp("inet")); c:settimeout(1)
    assert(c:bind("127.0.0.1", cport))
    assert(c:setpeername("127.0.0.1", pport))
    assert.is_true(c:setpeername("*"))
    assert.same({ nil, "Transport endpoint is not connected", "ENOTCONN" }, { c:getpeername() })
    assert.equal(cport, select(2, c:getsockname()))
    assert(other:sendto("from anyone", "127.0.0.1", cport))
    assert.equal("from anyone", (c:recv()))
    -- a port the kernel picked (bind with port 0, or none) is given back
    local u = receiver("127.0.0.1")
    assert(u:setpeername("127.0.0.1", pport))
    assert.is_true(select(2, u:getsockname()) > 0)
    assert(u:setpeername("*"))
    assert.equal(0, select(2, u:getsockname()))
    peer:close(); other:close(); c:close(); u:close()
  end)
end)

describe("setsockopt / getsockopt", function()
  it("sets and reads integers at each level, by name or number, as setoption/getoption see them", function()
    local s = assert(pktinfo.udp("inet"))
    assert.is_true(s:setsockopt("ip", IP_TTL, 33))
    assert.equal(33, s:getoption("ttl"))
    assert(s:setoption("ttl", 44))
    assert.equal(44, s:getsockopt("ip", IP_TTL))
    assert.is_true(s:setsockopt(0, IP_TTL, 55))            -- IPPROTO_IP by number
    assert.equal(55, s:getsockopt(0, IP_TTL))
    assert(s:setsockopt("socket", SO_RCVBUF, 65536))
    assert.equal(s:getoption("rcvbuf"), s:getsockopt("socket", SO_RCVBUF))
    assert.is_true(s:setsockopt("udp", UDP_CORK, 1))
    assert.equal(1, s:getsockopt("udp", UDP_CORK))
    local s6 = assert(pktinfo.udp("inet6"))
    assert(s6:setsockopt("ipv6", IPV6_UNICAST_HOPS, 12))
    assert.equal(12, s6:getoption("ttl"))
    s:close(); s6:close()
  end)

  it("sets and reads binary strings: the bytes as the kernel gives them", function()
    local s = assert(pktinfo.udp("inet"))
    assert.is_true(s:setsockopt("socket", SO_BINDTODEVICE, "lo"))
    assert.equal("lo", s:getoption("device"))
    assert.equal("lo\0", s:getsockopt("socket", SO_BINDTODEVICE, 16))   -- with its NUL
    assert(s:setoption("ttl", 44))
    local b = s:getsockopt("ip", IP_TTL, 4)                    -- a C int, in host byte order
    assert.equal(4, #b)
    assert.is_true(b == "\44\0\0\0" or b == "\0\0\0\44", ("%q"):format(b))
    assert.equal("\44", s:getsockopt("ip", IP_TTL, 1))   -- at most size bytes: Linux gives one
    s:close()
  end)

  it("returns the kernel's refusals as nil, msg, errname", function()
    local s = assert(pktinfo.udp("inet"))
    assert.same({ nil, "Protocol not available", "ENOPROTOOPT" }, { s:setsockopt("ip", 9999, 1) })
    assert.same({ nil, "Protocol not available", "ENOPROTOOPT" }, { s:getsockopt("ip", 9999) })
    assert.same({ nil, "No such device", "ENODEV" }, { s:setsockopt("socket", SO_BINDTODEVICE, "nosuch0") })
    -- a size the option refuses (Linux wants room for a whole name)
    assert(s:setsockopt("socket", SO_BINDTODEVICE, "lo"))
    assert.same({ nil, "Invalid argument", "EINVAL" }, { s:getsockopt("socket", SO_BINDTODEVICE, 2) })
    s:close()
  end)
end)

describe("recverr: ICMP errors from loopback", function()
  for _, case in ipairs(FAMILIES) do
    local name, family, lo = case[1], case[2], case[3]
    it(name .. ": port unreachable gives data, to, port, family, err, origin, type, code, offender", function()
      local port = closed_port(lo)
      local s = assert(pktinfo.udp(family, { recverr = true }))
      s:settimeout(2)
      assert(s:sendto("who is there?", lo, port))
      local data, info = s:recverr()
      local v6 = lo:find(":") ~= nil
      assert.equal("who is there?", data)
      assert.same({ to = lo, port = port, family = v6 and "inet6" or "inet", err = "ECONNREFUSED",
                    origin = v6 and "icmp6" or "icmp", type = v6 and 1 or 3, code = v6 and 4 or 3,
                    offender = lo, truncated = false }, info)
      s:settimeout(0)
      assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recverr() })
      s:close()
    end)
  end

  it("without the option: recverr() times out, and an unconnected socket's recv never sees the error", function()
    local port = closed_port("127.0.0.1")
    local s = assert(pktinfo.udp("inet"))
    s:settimeout(0.2)
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recverr() })
    assert(s:sendto("x", "127.0.0.1", port))
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recverr() })
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recv() })
    s:close()
  end)

  it("with errors queued, recv and recvmany return every datagram and sends are not refused for them", function()
    for _, case in ipairs(FAMILIES) do
      local family, lo = case[2], case[3]
      local port = closed_port(lo)
      local s, sport = receiver(lo == "::1" and "::1" or (family == "inet6" and "::ffff:127.0.0.1" or lo),
                                { recverr = true })
      local sink, sinkport = receiver(lo)
      local peer = assert(pktinfo.udp(lo:find(":") and "inet6" or "inet"))
      -- each send draws an ICMP error at once (loopback); the next send
      -- and receive would fail with it on Linux if nothing retried
      assert(s:sendto("e1", lo, port))
      assert.equal(2, s:sendto("ok", lo, sinkport))
      assert(s:sendto("e2", lo, port))
      assert.equal(3, s:sendmany { { data = "m1", to = lo, port = sinkport }, { data = "m2", to = lo, port = sinkport },
                                   { data = "e3", to = lo, port = port } })
      assert(s:sendto("e4", lo, port))
      assert(peer:sendto("d1", lo, sport))
      assert(peer:sendto("d2", lo, sport))
      assert(peer:sendto("d3", lo, sport))
      assert.equal("d1", (s:recv()))
      assert(s:sendto("e5", lo, port))
      local many = s:recvmany(8)
      assert.same({ "d2", "d3" }, { many[1].data, many[2].data })
      assert.equal(2, #many)
      local got = {}
      for i = 1, 3 do got[i] = (sink:recv()) end
      assert.same({ "ok", "m1", "m2" }, got)
      -- the errors are all still there, in order, for recverr()
      local errs = {}
      for i = 1, 5 do
        local d, info = s:recverr()
        errs[i] = d .. " " .. (info and info.err or "?")
      end
      assert.same({ "e1 ECONNREFUSED", "e2 ECONNREFUSED", "e3 ECONNREFUSED", "e4 ECONNREFUSED", "e5 ECONNREFUSED" }, errs)
      s:close(); sink:close(); peer:close()
    end
  end)

  it("with errors queued and no datagram, recv waits its whole timeout without spinning, then says timeout", function()
    local port = closed_port("127.0.0.1")
    local s = assert(pktinfo.udp("inet", { recverr = true }))
    assert(s:bind("127.0.0.1", 0))
    local _, sport = s:getsockname()
    for i = 1, 3 do assert(s:sendto("e" .. i, "127.0.0.1", port)) end
    s:settimeout(0.5)
    local cpu = os.clock()
    local wall, d, err, errname = net.elapsed(function() return s:recv() end)
    cpu = os.clock() - cpu
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { d, err, errname })
    assert.is_true(wall >= 0.45, "returned after " .. wall .. " s")
    assert.is_true(cpu < 0.2, "spent " .. cpu .. " s of CPU waiting")
    wall, d = net.elapsed(function() return s:recvmany(4) end)
    assert.is_nil(d); assert.is_true(wall >= 0.45)
    -- a datagram that comes while it waits is returned at once
    net.send_later(0.2, "127.0.0.1", sport, "late")
    s:settimeout(5)
    wall, d = net.elapsed(function() return s:recv() end)
    assert.equal("late", d)
    assert.is_true(wall < 4, "took " .. wall .. " s")
    s:close()
  end)

  it("a connected socket without the option: the next recv reports ECONNREFUSED once, then the datagram", function()
    local port = closed_port("127.0.0.1")
    local c = assert(pktinfo.udp("inet"))
    c:settimeout(1)
    assert(c:setpeername("127.0.0.1", port))
    local _, cport = c:getsockname()
    assert(c:send("anyone?"))
    local late = assert(pktinfo.udp("inet")); assert(late:bind("127.0.0.1", port))
    assert(late:sendto("answer", "127.0.0.1", cport))
    assert.same({ nil, "Connection refused", "ECONNREFUSED" }, { c:recv() })
    assert.equal("answer", (c:recv()))
    late:close()
    -- with the option, the same sequence gives the datagram, and the error to recverr()
    local p2 = closed_port("127.0.0.1")
    local r = assert(pktinfo.udp("inet", { recverr = true }))
    r:settimeout(1)
    assert(r:setpeername("127.0.0.1", p2))
    local _, rport = r:getsockname()
    assert(r:send("anyone?"))
    local late2 = assert(pktinfo.udp("inet")); assert(late2:bind("127.0.0.1", p2))
    assert(late2:sendto("answer 2", "127.0.0.1", rport))
    assert.equal("answer 2", (r:recv()))
    assert.equal("ECONNREFUSED", select(2, r:recverr()).err)
    c:close(); r:close(); late2:close()
  end)

  it("in an event loop the socket is ready while errors are queued; draining recverr() makes it idle", function()
    local socket = require "socket"
    local port = closed_port("127.0.0.1")
    local s = assert(pktinfo.udp("inet", { recverr = true }))
    s:settimeout(0)
    assert(s:sendto("e", "127.0.0.1", port))
    local ready = socket.select({ s }, nil, 1)
    assert.is_truthy(ready[s])
    assert.same({ nil, "timeout", "ETIMEDOUT" }, { s:recvmany(8) })
    repeat local d = s:recverr() until not d
    ready = socket.select({ s }, nil, 0.1)
    assert.is_nil(ready[s])
    s:close()
  end)
end)

describe("gateway options read back from the kernel", function()
  it("mtu-discover: every mode, at both IP levels of a dual-stack socket; false is dont", function()
    local sys = { dont = 0, want = 1, ["do"] = 2, probe = 3 }
    for _, mode in ipairs { "dont", "want", "do", "probe" } do
      local s = assert(pktinfo.udp("inet6", { ["mtu-discover"] = mode }))
      assert.equal(mode, s:getoption("mtu-discover"))
      assert.equal(sys[mode], s:getsockopt("ip", IP_MTU_DISCOVER))
      assert.equal(sys[mode], s:getsockopt("ipv6", IPV6_MTU_DISCOVER))
      local s4 = assert(pktinfo.udp("inet"))
      assert.is_true(s4:setoption("mtu-discover", mode))
      assert.equal(mode, s4:getoption("mtu-discover"))
      s:close(); s4:close()
    end
    local s = assert(pktinfo.udp("inet6"))
    assert.is_true(s:setoption("mtu-discover", false))
    assert.equal("dont", s:getoption("mtu-discover"))
    assert(s:setsockopt("ipv6", IPV6_MTU_DISCOVER, 4))      -- Linux's "interface": no name here
    assert.equal(4, s:getoption("mtu-discover"))
    s:close()
  end)

  it("recverr, recvorigdst, freebind: on at both IP levels of a dual-stack socket, one level otherwise", function()
    -- (Linux keeps freebind in one flag that both levels show)
    local levels = { recverr = { IP_RECVERR, IPV6_RECVERR }, recvorigdst = { IP_RECVORIGDSTADDR, IPV6_RECVORIGDSTADDR },
                     freebind = { IP_FREEBIND, IPV6_FREEBIND } }
    for name, l in pairs(levels) do
      local s = assert(pktinfo.udp("inet6", { [name] = true }))
      assert.is_true(s:getoption(name))
      assert.same({ 1, 1 }, { s:getsockopt("ip", l[1]), s:getsockopt("ipv6", l[2]) })
      assert.is_true(s:setoption(name, false))
      assert.same({ false, 0, 0 }, { s:getoption(name), s:getsockopt("ip", l[1]), s:getsockopt("ipv6", l[2]) })
      local v6 = assert(pktinfo.udp("inet6", { v6only = true, [name] = true }))
      assert.same({ name == "freebind" and 1 or 0, 1 }, { v6:getsockopt("ip", l[1]), v6:getsockopt("ipv6", l[2]) }, name)
      local v4 = assert(pktinfo.udp("inet", { [name] = true }))
      assert.same({ true, 1 }, { v4:getoption(name), v4:getsockopt("ip", l[1]) })
      s:close(); v6:close(); v4:close()
    end
  end)

  it("recvorigdst: orig_dst and orig_port (with no TPROXY rule: where the datagram was sent); gone when off", function()
    for _, case in ipairs(FAMILIES) do
      local family, lo = case[2], case[3]
      local s = assert(pktinfo.udp(family, { recvorigdst = true }))
      assert(s:bind("*", 0)); s:settimeout(1)
      local _, port = s:getsockname()
      net.send(lo, port, "x")
      local _, info = s:recv()
      assert.same({ lo, port }, { info.orig_dst, info.orig_port })
      local into = { orig_dst = "stale", orig_port = 1 }
      assert(s:setoption("recvorigdst", false))
      net.send(lo, port, "y")
      s:recv(nil, into)
      assert.same({ nil, nil }, { into.orig_dst, into.orig_port })
      s:close()
    end
  end)

  it("device: a name, \"\" and false unbind; mark: 0..4294967295 (both need privileges)", function()
    local why = gate.root("SO_BINDTODEVICE and SO_MARK")
    if why then pending(why) return end
    local s = assert(pktinfo.udp("inet6", { device = "lo", mark = 4294967295 }))
    assert.same({ "lo", 4294967295 }, { s:getoption("device"), s:getoption("mark") })
    assert.equal(-1, s:getsockopt("socket", SO_MARK))      -- the same 32 bits as a C int
    assert.is_true(s:setoption("mark", 7)); assert.equal(7, s:getoption("mark"))
    assert.is_true(s:setoption("device", "")); assert.equal("", s:getoption("device"))
    assert.is_true(s:setoption("device", "lo")); assert.is_true(s:setoption("device", false))
    assert.equal("", s:getoption("device"))
    assert.same({ nil, "No such device", "ENODEV" }, { s:setoption("device", "nosuch0") })
    s:close()
  end)

  it("transparent: on at both IP levels (needs root)", function()
    local why = gate.root("IP_TRANSPARENT")
    if why then pending(why) return end
    local s = assert(pktinfo.udp("inet6", { transparent = true }))
    assert.same({ true, 1, 1 }, { s:getoption("transparent"), s:getsockopt("ip", IP_TRANSPARENT),
                                  s:getsockopt("ipv6", IPV6_TRANSPARENT) })
    s:close()
  end)

  it("freebind: bind to an address not (yet) local; IPv4 cannot send from it, transparent can (a namespace)", function()
    local why = gate.netns()
    if why then pending(why) return end
    local r = gw.marks()
    local ok, err = pcall(function()
      local out = r:run("h", [[
        local t = {}
        local plain = assert(pktinfo.udp("inet"))
        t.plain = select(3, plain:bind("203.0.113.7", 0))
        local fb = assert(pktinfo.udp("inet", { freebind = true }))
        t.fb = fb:bind("203.0.113.7", 0)
        t.fb_send = select(3, fb:sendto("x", "192.0.2.2", 9))
        local fb6 = assert(pktinfo.udp("inet6", { freebind = true }))
        t.fb6 = fb6:bind("2001:db8:77::7", 0)
        local tr = assert(pktinfo.udp("inet", { transparent = true }))
        t.tr = tr:bind("203.0.113.7", 0)
        t.tr_send = tr:sendto("x", "192.0.2.2", 9)
        return t
      ]])
      assert.same({ plain = "EADDRNOTAVAIL", fb = true, fb_send = "ENETUNREACH", fb6 = true, tr = true, tr_send = 1 }, out)
    end)
    r:close()
    assert(ok, err)
  end)

  it("transparent and mark without CAP_NET_ADMIN and CAP_NET_RAW: EPERM; turning them off still works", function()
    local code = "local p = require 'pktinfo' local s = p.udp('inet6') " ..
      "print(select(3, s:setoption('transparent', true)), select(3, s:setoption('mark', 1)), " ..
      "select(3, p.udp('inet', { transparent = true })), s:setoption('transparent', false), " ..
      "s:setoption('mark', 0), s:setoption('freebind', true))"
    local cmd
    if gate.root() then
      cmd = ("%s -e %q 2>&1"):format(net.lua(), code)
    else
      local why = gate.command("setpriv"); if why then pending(why) return end
      cmd = ("LUA_CPATH=%q LUA_PATH=%q setpriv --bounding-set=-net_admin,-net_raw --inh-caps=-net_admin,-net_raw %s -e %q 2>&1")
        :format(package.cpath, package.path, net.lua(), code)
    end
    local f = assert(io.popen(cmd))
    local out = f:read("*a"); f:close()
    assert.equal("EPERM\tEPERM\tEPERM\ttrue\ttrue\ttrue\n", out)
  end)
end)
