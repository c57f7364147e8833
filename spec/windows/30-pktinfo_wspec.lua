-- setpktinfo / getpktinfo and the IP_PKTINFO page's rules on Windows:
-- off by default, a boolean, both options on dual-stack sockets, only
-- datagram and raw sockets (ENOPROTOOPT), WSAENOTSOCK for non-sockets.
local H = require "windows.helper"
local pktinfo, wintest = H.pktinfo, H.wintest

describe("getpktinfo / setpktinfo on Windows", function()
  it("is off on a new socket and reads back what was set", function()
    for _, family in ipairs { "inet", "inet6" } do
      local s = pktinfo.udp(family)
      if s then
        assert.is_false(s:getpktinfo())
        assert.is_true(s:setpktinfo(true))
        assert.is_true(s:getpktinfo())
        assert.is_true(s:setpktinfo(false))
        assert.is_false(s:getpktinfo())
        assert.is_true(s:setpktinfo(1))        -- truthiness
        assert.is_true(s:getpktinfo())
        s:close()
      end
    end
  end)

  it("sets both options on a dual-stack socket, one on a v6only socket", function()
    local why = H.no_ipv6(); if why then pending(why) end
    local d = pktinfo.udp("inet6")
    assert.is_false(d:getoption("v6only"))
    assert.is_true(d:setpktinfo(true))
    assert.is_true(d:getpktinfo())
    d:close()
    local v6 = pktinfo.udp("inet6", { v6only = true })
    assert.is_true(v6:getoption("v6only"))
    assert.is_true(v6:setpktinfo(true))
    assert.is_true(v6:getpktinfo())
    v6:close()
  end)

  it("gives ENOPROTOOPT for a wrapped stream socket (the module's own type check)", function()
    local fd = assert(wintest.tcp("inet"))
    local s = assert(pktinfo.wrap(fd))
    local ok, msg, name = s:setpktinfo(true)
    assert.is_nil(ok)
    assert.equal("ENOPROTOOPT", name)
    assert.equal("string", type(msg))
    ok, msg, name = s:getpktinfo()
    assert.is_nil(ok)
    assert.equal("ENOPROTOOPT", name)
    assert.matches("^pktinfo%.stream", tostring(s))
    s:close()
    assert.is_true(wintest.closesocket(fd))      -- borrowed: still open
  end)

  it("matches Winsock's own answer for a stream socket (WSAENOPROTOOPT, 10042)", function()
    local fd = assert(wintest.tcp("inet"))
    local ok, code = wintest.setsockopt(fd, 0, 19, 1)       -- IPPROTO_IP, IP_PKTINFO
    wintest.closesocket(fd)
    if H.wine and code == 10022 then pending(H.WINE_STREAM_EINVAL) end
    assert.is_nil(ok)
    assert.equal(10042, code)
  end)

  it("gives ENOTSOCK when wrapping a handle that is no socket", function()
    local h = assert(wintest.file())
    local s, msg, name = pktinfo.wrap(h)
    wintest.closehandle(h)
    assert.is_nil(s)
    assert.equal("ENOTSOCK", name)
    assert.equal("string", type(msg))
  end)

  it("gives ENOTSOCK when wrapping a socket that was closed", function()
    local fd = assert(wintest.tcp("inet"))
    wintest.closesocket(fd)
    local s, _, name = pktinfo.wrap(fd)
    assert.is_nil(s)
    assert.equal("ENOTSOCK", name)
  end)

  it("wraps a datagram socket and reads its family and type from Winsock", function()
    local fd = assert(wintest.udp_blocking("inet6"))
    local s = assert(pktinfo.wrap(fd, { pktinfo = true }))
    assert.matches("^pktinfo%.udp %(inet6", tostring(s))
    assert.is_true(s:getpktinfo())
    assert.equal(fd, s:getfd())
    s:close()
    assert.is_true(wintest.closesocket(fd))
  end)
end)

describe("errors on Windows", function()
  it("maps WSAENOPROTOOPT to ENOPROTOOPT", function()
    local a = pktinfo.udp("inet")
    local ok, msg, name = a:getoption("v6only")    -- an inet socket has none
    assert.is_nil(ok)
    assert.equal("ENOPROTOOPT", name)
    assert.equal("string", type(msg))
    a:close()
  end)

  it("gives EADDRNOTAVAIL for binding an address that is not local", function()
    local a = pktinfo.udp("inet")
    local ok, msg, name = a:bind("192.0.2.1", 0)   -- TEST-NET-1, not local
    a:close()
    if H.wine and ok then
      pending("Wine " .. H.wine .. ": binding a UDP socket to an address that is not local succeeds")
    end
    assert.is_nil(ok)
    assert.equal("EADDRNOTAVAIL", name, msg)
  end)

  it("gives EADDRINUSE for a port another socket holds", function()
    local a = pktinfo.udp("inet")
    assert.is_true(a:bind("127.0.0.1", 0))
    local _, port = a:getsockname()
    local b = pktinfo.udp("inet")
    local ok, _, name = b:bind("127.0.0.1", port)
    a:close(); b:close()
    if H.wine and ok then
      pending("Wine " .. H.wine .. ": a second UDP socket may bind a port in use (SO_REUSEADDR underneath)")
    end
    assert.is_nil(ok)
    assert.equal("EADDRINUSE", name)
  end)

  it("raises for caller mistakes", function()
    local s = pktinfo.udp()
    assert.has_error(function() s:bind("127.0.0.1", 70000) end)
    assert.has_error(function() s:recv(-1) end)
    assert.has_error(function() pktinfo.udp("ipx") end)
    s:close()
  end)
end)
