-- WSASendMsg with IN_PKTINFO / IN6_PKTINFO: the source of sendto(..., src)
-- and reply(). Wine ignores the control data: there these cases are
-- pending, and test_cmsg_win.exe checks the exact bytes instead.
local H = require "windows.helper"
local pktinfo = H.pktinfo

-- A wildcard receiver (so that 127.0.0.2 and 127.0.0.3 reach it).
local function wildcard_pair()
  local r = assert(pktinfo.udp("inet", { pktinfo = true, timeout = 2 }))
  assert(r:bind("0.0.0.0", 0))
  local _, port = r:getsockname()
  local s = assert(pktinfo.udp("inet", { pktinfo = true, timeout = 2 }))
  assert(s:bind("0.0.0.0", 0))
  return r, port, s
end

describe("sending from a chosen source on Windows", function()
  it("sends with a literal source table (the datagram arrives)", function()
    local r, port, s = wildcard_pair()
    assert.equal(3, s:sendto("src", "127.0.0.1", port, { addr = "127.0.0.1" }))
    assert.equal(3, s:sendto("idx", "127.0.0.1", port, { ifindex = 1, ttl = 9 }))
    local data = r:recv()
    assert.equal("src", data)
    data = r:recv()
    assert.equal("idx", data)
    r:close(); s:close()
  end)

  it("sends from the address given in src", function()
    local r, port, s = wildcard_pair()
    s:sendto("from .2", "127.0.0.1", port, { addr = "127.0.0.2" })
    local data, info = r:recv()
    assert.equal("from .2", data)
    if H.wine and info.from ~= "127.0.0.2" then pending(H.WINE_NO_SENDMSG_CONTROL) end
    assert.equal("127.0.0.2", info.from)
    r:close(); s:close()
  end)

  it("replies from the address the request was sent to", function()
    local r, port, s = wildcard_pair()
    local _, sport = s:getsockname()
    s:sendto("q", "127.0.0.3", port)
    local _, info = r:recv()
    assert.equal("127.0.0.3", info.addr)
    assert.equal(1, r:reply("a", info))
    local data, back = s:recv()
    assert.equal("a", data)
    assert.equal(port, back.port)
    assert.equal(sport, info.port)
    if H.wine and back.from ~= "127.0.0.3" then pending(H.WINE_NO_SENDMSG_CONTROL) end
    assert.equal("127.0.0.3", back.from)
    r:close(); s:close()
  end)

  it("refuses a source of the other family", function()
    local s = pktinfo.udp("inet")
    assert.has_error(function() s:sendto("x", "127.0.0.1", 9, { addr = "::1" }) end)
    s:close()
  end)

  it("sends IPv6 with a source and ifindex", function()
    local why = H.no_ipv6(); if why then pending(why) end
    local r = assert(pktinfo.udp("inet6", { pktinfo = true, timeout = 2 }))
    r:bind("::1", 0)
    local _, port = r:getsockname()
    local s = pktinfo.udp("inet6")
    assert.equal(2, s:sendto("v6", "::1", port, { addr = "::1" }))
    local data, info = r:recv()
    assert.equal("v6", data)
    assert.equal("::1", info.from)
    assert.equal(1, r:reply("r", info))
    r:close(); s:close()
  end)
end)
