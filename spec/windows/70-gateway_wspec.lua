-- Gateways on Windows (README, "Gateways"): connected sockets, the
-- setsockopt/getsockopt escape hatch at Winsock's levels, mtu-discover
-- over IP_DONTFRAGMENT, device over IP_UNICAST_IF, and the Linux-only
-- options and recverr() refused as the README's platform table says.
local H = require "windows.helper"
local pktinfo = H.pktinfo

-- Winsock's option numbers (ws2def.h, ws2ipdef.h).
local SOL_SOCKET, SO_RCVBUF = 0xffff, 0x1002
local IP_TTL, IP_DONTFRAGMENT = 4, 14

describe("gateways on Windows", function()
  it("connects a socket: send goes to the peer, getpeername names it, setpeername('*') dissolves it", function()
    for _, family in ipairs { "inet", "inet6" } do
      if family == "inet6" and H.no_ipv6() then pending(H.no_ipv6()) return end
      local lo = H.LOOPBACK[family]
      local r, port = H.pair(family)
      local c = assert(pktinfo.udp(family))
      assert.same({ nil, "ENOTCONN" }, { c:getpeername(), select(3, c:getpeername()) })
      assert.is_true(c:setpeername(lo, port))
      assert.same({ lo, port, family }, { c:getpeername() })
      assert.equal(5, c:send("hello"))
      assert.equal("hello", (r:recv()))
      assert.is_true(c:setpeername("*"))
      assert.equal("ENOTCONN", select(3, c:getpeername()))
      r:close(); c:close()
    end
  end)

  it("setsockopt / getsockopt at Winsock's levels, by name and by number", function()
    local s = assert(pktinfo.udp("inet"))
    assert.is_true(s:setsockopt("ip", IP_TTL, 21))
    assert.equal(21, s:getoption("ttl"))
    assert.is_true(s:setsockopt(SOL_SOCKET, SO_RCVBUF, 100000))
    assert.equal(s:getoption("rcvbuf"), s:getsockopt("socket", SO_RCVBUF))
    local b = s:getsockopt("ip", IP_TTL, 4)
    assert.equal(4, #b)
    assert.equal(21, b:byte(1))
    s:close()
  end)

  it("mtu-discover: 'do' and 'dont' as IP_DONTFRAGMENT; 'want' and 'probe' are EOPNOTSUPP", function()
    local s = assert(pktinfo.udp("inet", { ["mtu-discover"] = "do" }))
    assert.equal("do", s:getoption("mtu-discover"))
    assert.equal(1, s:getsockopt("ip", IP_DONTFRAGMENT))
    assert.is_true(s:setoption("mtu-discover", "dont"))
    assert.equal("dont", s:getoption("mtu-discover"))
    assert.equal("EOPNOTSUPP", select(3, s:setoption("mtu-discover", "want")))
    assert.equal("EOPNOTSUPP", select(3, s:setoption("mtu-discover", "probe")))
    assert.is_true(s:setoption("mtu-discover", false))
    s:close()
  end)

  it("device: binds to an adapter by name and reads it back; \"\" and false unbind; a name no adapter has is ENODEV", function()
    local r, port, snd = H.pair("inet")
    snd:sendto("x", "127.0.0.1", port)
    local _, info = r:recv()
    local name = assert(pktinfo.ifname(info.ifindex))
    r:close(); snd:close()
    local d = assert(pktinfo.udp("inet", { device = name }))
    assert.equal(name, d:getoption("device"))
    d:close()
    local s = assert(pktinfo.udp("inet"))
    assert.is_true(s:setoption("device", ""))
    assert.equal("", s:getoption("device"))
    assert.is_true(s:setoption("device", false))
    assert.equal("ENODEV", select(3, s:setoption("device", "nosuch0")))
    s:close()
  end)

  it("device on an IPv6 socket (IPV6_UNICAST_IF)", function()
    if H.wine then
      pending("Wine " .. tostring(H.wine) .. ": IPV6_UNICAST_IF answers WSAEINVAL (IPv4's IP_UNICAST_IF works)")
      return
    end
    local r, port, snd = H.pair("inet")
    snd:sendto("x", "127.0.0.1", port)
    local _, info = r:recv()
    local name = assert(pktinfo.ifname(info.ifindex))
    r:close(); snd:close()
    local d = assert(pktinfo.udp("inet6", { device = name }))
    assert.equal(name, d:getoption("device"))
    d:close()
  end)

  it("the Linux-only options (and mtu) are unknown; recverr() is EOPNOTSUPP", function()
    local s = assert(pktinfo.udp("inet"))
    for _, name in ipairs { "recverr", "mark", "freebind", "transparent", "recvorigdst", "mtu" } do
      local ok, err = pcall(s.setoption, s, name, true)
      assert.is_false(ok)
      assert.matches("unknown option '" .. name .. "'", err)
      ok, err = pcall(pktinfo.udp, "inet", { [name] = true })
      assert.is_false(ok)
      assert.matches("unknown option '" .. name .. "'", err)
    end
    assert.equal("EOPNOTSUPP", select(3, s:recverr()))
    s:close()
  end)
end)
