-- Timeouts with WSAPoll, on the module's own non-blocking sockets and on a
-- borrowed blocking one; WSAECONNRESET must not end a server loop.
local H = require "windows.helper"
local pktinfo, wintest = H.pktinfo, H.wintest

describe("timeouts on Windows", function()
  it("settimeout(0) never waits", function()
    local r = H.pair("inet")
    r:settimeout(0)
    local ok, msg, name = r:recv()
    assert.is_nil(ok)
    assert.equal("timeout", msg)
    assert.equal("ETIMEDOUT", name)
    r:close()
  end)

  it("a positive timeout waits, then gives nil, 'timeout', 'ETIMEDOUT'", function()
    local r = H.pair("inet")
    r:settimeout(0.2)
    local t0 = H.now()
    local ok, msg, name = r:recv()
    assert.is_nil(ok)
    assert.equal("timeout", msg)
    assert.equal("ETIMEDOUT", name)
    assert.is_true(H.now() - t0 >= 0.1)
    assert.equal(0.2, r:timeout())
    r:close()
  end)

  it("a blocking socket returns a queued datagram", function()
    local r, port, s = H.pair("inet")
    r:settimeout(nil)
    assert.is_nil(r:timeout())
    s:sendto("queued", "127.0.0.1", port)
    wintest.sleep(0.05)
    assert.equal("queued", (r:recv()))
    r:close(); s:close()
  end)

  it("times out on a borrowed blocking socket instead of hanging", function()
    local fd = assert(wintest.udp_blocking("inet"))
    local s = assert(pktinfo.wrap(fd, { timeout = 0.2, pktinfo = true }))
    assert.is_true(s:bind("127.0.0.1", 0))
    local ok, msg = s:recv()
    assert.is_nil(ok)
    assert.equal("timeout", msg)
    local _, port = s:getsockname()
    pktinfo.udp():sendto("late", "127.0.0.1", port)
    local data, info = s:recv()
    assert.equal("late", data)
    assert.equal("127.0.0.1", info.addr)
    s:close()
    wintest.closesocket(fd)
  end)

  it("survives a port unreachable (WSAECONNRESET) on its own and borrowed sockets", function()
    local closed = pktinfo.udp("inet")
    closed:bind("127.0.0.1", 0)
    local _, dead = closed:getsockname()
    closed:close()                                  -- nobody listens on `dead`
    local fd = assert(wintest.udp_blocking("inet"))
    local socks = { assert(pktinfo.udp("inet")), assert(pktinfo.wrap(fd)) }
    for _, s in ipairs(socks) do
      s:bind("127.0.0.1", 0)
      s:settimeout(0.3)
      s:sendto("anyone?", "127.0.0.1", dead)
      local ok, msg, name = s:recv()
      assert.is_nil(ok)
      assert.equal("ETIMEDOUT", name, msg)
      local _, port = s:getsockname()
      pktinfo.udp():sendto("still here", "127.0.0.1", port)
      assert.equal("still here", (s:recv()))
      s:close()
    end
    wintest.closesocket(fd)
  end)
end)

describe("closed sockets on Windows", function()
  it("answer nil, 'closed', 'EBADF' and close twice safely", function()
    local s = pktinfo.udp()
    assert.is_true(s:close())
    assert.is_true(s:close())
    for _, call in ipairs {
      function() return s:recv() end,
      function() return s:sendto("x", "127.0.0.1", 9) end,
      function() return s:bind("127.0.0.1", 0) end,
      function() return s:setpktinfo(true) end,
      function() return s:getpktinfo() end,
      function() return s:getsockname() end,
    } do
      local ok, msg, name = call()
      assert.is_nil(ok)
      assert.equal("closed", msg)
      assert.equal("EBADF", name)
    end
    assert.equal(-1, s:getfd())
  end)

  it("close a wrapped socket only when owned", function()
    local fd = assert(wintest.udp_blocking("inet"))
    local borrowed = assert(pktinfo.wrap(fd))
    borrowed:close()
    local owned = assert(pktinfo.wrap(fd, { own = true }))   -- still open
    owned:close()
    local ok, code = wintest.closesocket(fd)
    assert.is_nil(ok)
    assert.equal(10038, code)                                -- WSAENOTSOCK
  end)

  it("closes through to-be-closed variables and garbage collection", function()
    local fd
    do
      local s <close> = pktinfo.udp()
      fd = s:getfd()
    end
    local again = pktinfo.wrap(fd)
    assert.is_nil(again)
    local g = pktinfo.udp()
    fd = g:getfd()
    g = nil
    collectgarbage(); collectgarbage()
    assert.is_nil((pktinfo.wrap(fd)))
  end)
end)
