-- setoption / getoption, multicast membership and per-datagram extras on
-- Windows: the option table shared with Linux, over Winsock's levels.
local H = require "windows.helper"
local pktinfo = H.pktinfo

describe("options on Windows", function()
  it("sets and reads back socket-level and IP-level options", function()
    for _, family in ipairs { "inet", "inet6" } do
      local s = pktinfo.udp(family)
      assert.is_true(s:setoption("broadcast", true))
      assert.is_true(s:getoption("broadcast"))
      assert.is_true(s:setoption("rcvbuf", 100000))
      assert.is_true(s:getoption("rcvbuf") >= 100000)
      assert.is_true(s:setoption("ttl", 33))
      assert.equal(33, s:getoption("ttl"))
      assert.is_true(s:setoption("multicast-ttl", 3))
      assert.equal(3, s:getoption("multicast-ttl"))
      assert.is_true(s:setoption("multicast-loop", false))
      assert.is_false(s:getoption("multicast-loop"))
      s:close()
    end
  end)

  it("takes multicast-if as an index or a name", function()
    local r, port, snd = H.pair("inet")
    snd:sendto("x", "127.0.0.1", port)
    local _, info = r:recv()
    local name = pktinfo.ifname(info.ifindex)
    for _, family in ipairs { "inet", "inet6" } do
      local s = pktinfo.udp(family)
      assert.is_true(s:setoption("multicast-if", info.ifindex))
      assert.is_true(s:setoption("multicast-if", name))
      assert.is_true(s:setoption("multicast-if", 0))
      s:close()
    end
    local s4 = pktinfo.udp("inet")
    s4:setoption("multicast-if", info.ifindex)
    assert.equal("127.0.0.1", s4:getoption("multicast-if"))   -- IPv4 reads back an address
    s4:close(); r:close(); snd:close()
  end)

  it("joins and leaves multicast groups, with and without an interface", function()
    local s = pktinfo.udp("inet")
    assert.is_true(s:join("239.1.2.3"))
    assert.is_true(s:leave("239.1.2.3"))
    assert.is_true(s:join("239.1.2.4", 1))
    assert.is_true(s:leave("239.1.2.4", 1))
    s:close()
    local why = H.no_ipv6(); if why then pending(why) end
    local d = pktinfo.udp("inet6")
    assert.is_true(d:join("ff02::1:3", 1))
    assert.is_true(d:join("239.1.2.5"))          -- IPv4 group on a dual-stack socket
    d:close()
  end)

  it("reports the TTL with recvttl", function()
    local r, port, s = H.pair("inet")
    assert.is_true(r:setoption("recvttl", true))
    s:setoption("ttl", 33)
    s:sendto("t", "127.0.0.1", port)
    local _, info = r:recv()
    assert.equal(33, info.ttl)
    r:close(); s:close()
  end)
end)
