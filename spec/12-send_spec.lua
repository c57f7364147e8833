-- sendto with a source, reply, and socket options, on loopback.
local pktinfo = require "pktinfo"
local net = require "helpers.net"
local gate = require "helpers.gate"

describe("sendto and reply", function()
  it("sends from a literal source address", function()
    local s, port = net.server("inet", "127.0.0.1")
    local c = assert(pktinfo.udp())
    assert.equal(3, c:sendto("src", "127.0.0.1", port, { addr = "127.0.0.77" }))
    local data, info = s:recv()
    assert.equal("src", data); assert.equal("127.0.0.77", info.from)
    s:close(); c:close()
  end)

  it("sends out of a literal interface", function()
    local s, port = net.server("inet", "127.0.0.1")
    local c = assert(pktinfo.udp())
    assert(c:sendto("if", "127.0.0.1", port, { ifindex = pktinfo.ifindex("lo") }))
    local data, info = s:recv()
    assert.equal("if", data); assert.equal(pktinfo.ifindex("lo"), info.ifindex)
    s:close(); c:close()
  end)

  it("replies from the address the request was sent to", function()
    local s, port = net.server("inet")
    local c = assert(pktinfo.udp()); assert(c:bind("127.0.0.1", 0)); c:settimeout(2)
    for _, dst in ipairs { "127.0.0.1", "127.0.0.2", "127.0.0.53" } do
      assert(c:sendto("ping", dst, port))
      local _, info = s:recv()
      assert.equal(4, s:reply("pong", info))
      local data, rinfo = c:recv()
      assert.equal("pong", data); assert.equal(dst, rinfo.from); assert.equal(port, rinfo.port)
    end
    s:close(); c:close()
  end)

  it("replies from the right address on a dual-stack socket, to IPv4 and IPv6 peers", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s, port = net.server("inet6")
    local c4 = assert(pktinfo.udp()); c4:settimeout(2)
    assert(c4:sendto("v4", "127.0.0.4", port))
    local _, info = s:recv()
    assert.equal("inet", info.family)
    assert(s:reply("r4", info))
    local data, rinfo = c4:recv()
    assert.equal("r4", data); assert.equal("127.0.0.4", rinfo.from)
    local c6 = assert(pktinfo.udp("inet6")); c6:settimeout(2)
    assert(c6:sendto("v6", "::1", port))
    _, info = s:recv()
    assert(s:reply("r6", info))
    data, rinfo = c6:recv()
    assert.equal("r6", data); assert.equal("::1", rinfo.from); assert.equal("inet6", rinfo.family)
    s:close(); c4:close(); c6:close()
  end)

  it("replies without packet info like a plain sendto", function()
    local s = assert(pktinfo.udp()); assert(s:bind("127.0.0.1", 0)); s:settimeout(2)
    local _, port = s:getsockname()
    local c = assert(pktinfo.udp()); c:settimeout(2)
    assert(c:sendto("q", "127.0.0.1", port))
    local _, info = s:recv()
    assert.is_nil(info.addr)
    assert(s:reply("a", info))
    assert.equal("a", (c:recv()))
    s:close(); c:close()
  end)

  it("refuses a source the host does not own with nil, message, errname", function()
    -- the kernel's own answers: an IPv4 source that is no local address
    -- fails the route lookup, ENETUNREACH (EINVAL before Linux 5.4, commit
    -- 595e0651d029 "ipv4: Return -ENETUNREACH if we can't create route but
    -- saddr is valid"), also toward IPv4 on a dual-stack socket; a
    -- multicast IPv4 source, and an IPv6 source that is no local address
    -- (ip6_datagram_send_ctl), are EINVAL
    local c = assert(pktinfo.udp())
    local cases = {
      { c, "127.0.0.1", "192.0.2.99", "ENETUNREACH", "Network is unreachable" },
      { c, "127.0.0.1", "224.0.0.1", "EINVAL", "Invalid argument" },
    }
    local c6 = not gate.ipv6() and assert(pktinfo.udp("inet6"))
    if c6 then
      cases[#cases + 1] = { c6, "::1", "2001:db8::99", "EINVAL", "Invalid argument" }
      cases[#cases + 1] = { c6, "127.0.0.1", "192.0.2.99", "ENETUNREACH", "Network is unreachable" }
    end
    for _, k in ipairs(cases) do
      local ok, msg, name = k[1]:sendto("x", k[2], 9, { addr = k[3] })
      assert.is_nil(ok, k[3])
      assert.equal(k[4], name, k[3])
      assert.equal(k[5], msg, k[3])
    end
    c:close()
    if c6 then c6:close() end
  end)

  it("raises for malformed source tables, naming the argument", function()
    local c = assert(pktinfo.udp())
    assert.has_error(function() c:sendto("x", "127.0.0.1", 9, { addr = "nope" }) end)
    assert.has_error(function() c:sendto("x", "127.0.0.1", 9, { addr = "::1" }) end)
    assert.has_error(function() c:sendto("x", "127.0.0.1", 9, { ifindex = -1 }) end)
    assert.has_error(function() c:sendto("x", "127.0.0.1", 9, { ttl = 256 }) end)
    assert.has_error(function() c:sendto("x", "127.0.0.1", 9, "src") end)
    assert.has_error(function() c:reply("x", { port = 9 }) end)
    assert.has_error(function() c:reply("x", { from = "127.0.0.1", port = 70000 }) end)
    c:close()
  end)
end)

describe("options", function()
  it("sets and reads back socket-level options", function()
    local s = assert(pktinfo.udp())
    for _, name in ipairs { "reuseaddr", "reuseport", "broadcast" } do
      assert.is_false(s:getoption(name), name)
      assert.is_true(s:setoption(name, true), name)
      assert.is_true(s:getoption(name), name)
      assert.is_true(s:setoption(name, false), name)
      assert.is_false(s:getoption(name), name)
    end
    assert.is_true(s:setoption("rcvbuf", 65536))
    assert.is_true(s:getoption("rcvbuf") >= 65536)   -- Linux reports double
    assert.is_true(s:setoption("sndbuf", 65536))
    assert.is_true(s:getoption("sndbuf") >= 65536)
    assert.is_true(s:setoption("ttl", 7))
    assert.equal(7, s:getoption("ttl"))
    local _, _, name = s:setoption("v6only", true)
    assert.equal("ENOPROTOOPT", name)
    s:close()
  end)

  it("applies creation options", function()
    local s = assert(pktinfo.udp("inet", { reuseaddr = true, broadcast = true, rcvbuf = 100000, pktinfo = true }))
    assert.is_true(s:getoption("reuseaddr")); assert.is_true(s:getoption("broadcast"))
    assert.is_true(s:getoption("rcvbuf") >= 100000); assert.is_true(s:getpktinfo())
    s:close()
  end)

  it("sets IP-level options on both IP versions of a dual-stack socket", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s, port = net.server("inet6")
    assert.is_true(s:setoption("ttl", 9))
    assert.equal(9, s:getoption("ttl"))
    local r = assert(pktinfo.udp()); assert(r:bind("127.0.0.1", 0)); r:settimeout(2)
    assert(r:setoption("recvttl", true))
    local _, rport = r:getsockname()
    assert(s:sendto("ttl", "127.0.0.1", rport))
    local _, info = r:recv()
    assert.equal(9, info.ttl)
    s:close(); r:close()
    assert(port)
  end)

  it("sets the TOS / traffic class of every datagram with option tos, on both IP versions", function()
    local why = gate.ipv6(); if why then pending(why) end
    local r = assert(pktinfo.udp("inet6")); assert(r:bind("*", 0)); r:settimeout(2)
    assert(r:setoption("recvtos", true))
    local _, port = r:getsockname()
    local s = assert(pktinfo.udp("inet6"))
    assert.equal(0, s:getoption("tos"))
    assert.is_true(s:setoption("tos", 0xb8))
    assert.equal(0xb8, s:getoption("tos"))
    assert(s:sendto("four", "127.0.0.1", port))
    assert(s:sendto("six", "::1", port))
    local d1, i1 = r:recv()
    local d2, i2 = r:recv()
    assert.same({ "four", 0xb8, 0 }, { d1, i1.tos, i1.ecn })
    assert.same({ "six", 0xb8, 0 }, { d2, i2.tos, i2.ecn })
    -- a per-datagram tos wins over the socket's
    assert(s:sendto("one-off", "127.0.0.1", port, { tos = 0x04 }))
    local _, i3 = r:recv()
    assert.equal(0x04, i3.tos)
    s:close(); r:close()
  end)
end)
