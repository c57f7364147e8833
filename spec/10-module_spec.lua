-- Module functions, socket life cycle, wrap, and the error convention.
local pktinfo = require "pktinfo"
local net = require "helpers.net"

describe("module", function()
  it("exposes the constructors, lookups and platform constants", function()
    for _, name in ipairs { "udp", "raw", "wrap", "ifname", "ifindex", "describe" } do
      assert.is_function(pktinfo[name], name)
    end
    assert.is_string(pktinfo._VERSION)
    assert.equal(8, pktinfo.IP_PKTINFO)       -- Linux values
    assert.equal(50, pktinfo.IPV6_PKTINFO)
  end)

  it("maps interface names and indexes both ways", function()
    local lo = pktinfo.ifindex("lo")
    assert.is_true(math.type == nil or math.type(lo) == "integer")
    assert.equal("lo", pktinfo.ifname(lo))
    local none, err, name = pktinfo.ifindex("no-such-if0")
    assert.is_nil(none); assert.is_string(err); assert.equal("ENODEV", name)
    assert.is_nil((pktinfo.ifname(999999)))
    assert.has_error(function() pktinfo.ifname("lo") end)
  end)

  it("creates inet (default) and inet6 sockets", function()
    local s = assert(pktinfo.udp())
    assert.matches("^pktinfo%.udp %(inet, fd %d+%)$", tostring(s))
    local s6 = assert(pktinfo.udp("inet6"))
    assert.matches("^pktinfo%.udp %(inet6, fd %d+%)$", tostring(s6))
    assert.is_false(s6:getoption("v6only"))   -- dual-stack by default
    local only = assert(pktinfo.udp("inet6", { v6only = true }))
    assert.is_true(only:getoption("v6only"))
    s:close(); s6:close(); only:close()
  end)

  it("raises on caller mistakes, naming the argument", function()
    assert.has_error(function() pktinfo.udp("inet7") end)
    local ok0, err0 = pcall(pktinfo.udp, "inet", { nosuch = true })
    assert.is_false(ok0); assert.matches("bad argument #2 to '[^']*' %(unknown option 'nosuch'%)", err0)
    assert.has_error(function() pktinfo.udp("inet", { rcvbuf = "big" }) end)
    assert.has_error(function() pktinfo.raw("inet", "nosuchproto") end)
    assert.has_error(function() pktinfo.raw("inet", 300) end)
    local s = assert(pktinfo.udp())
    local ok, err = pcall(function() return s:bind("*", 70000) end)
    assert.is_false(ok); assert.matches("bad argument #%d to '[^']*' %(port out of range", err)   -- LuaJIT numbers tail calls differently
    ok, err = pcall(function() return s:bind("localhost", 1) end)
    assert.is_false(ok); assert.matches("not a numeric IP address: 'localhost'", err, 1, true)
    ok, err = pcall(function() return s:sendto("x", "::1", 5) end)
    assert.is_false(ok); assert.matches("IPv6 address on an inet socket", err, 1, true)
    ok, err = pcall(function() return s:recv(-1) end)
    assert.is_false(ok); assert.matches("bad argument #%d to '[^']*' %(size out of range", err)
    assert.has_error(function() s:recv(2 ^ 40) end)
    assert.has_error(function() s:sendto("x", "127.0.0.1", -1) end)
    assert.has_error(function() s:sendto("x", "1.2.3.4\0", 9) end)
    assert.has_error(function() s:sendto({}, "127.0.0.1", 9) end)
    assert.has_error(function() s:setoption("nosuch", 1) end)
    assert.has_error(function() s.recv(42) end)
    s:close()
  end)

  it("returns nil, message, errname when the OS refuses", function()
    local s = assert(pktinfo.udp())
    local ok, msg, name = s:bind("192.0.2.1", 0)   -- not an address of this host
    assert.is_nil(ok); assert.is_string(msg); assert.equal("EADDRNOTAVAIL", name)
    assert.equal(ok, nil)
    local a = assert(pktinfo.udp()); assert(a:bind("127.0.0.1", 0))
    local _, port = a:getsockname()
    ok, msg, name = s:bind("127.0.0.1", port)
    assert.is_nil(ok); assert.equal("EADDRINUSE", name)
    s:close(); a:close()
  end)

  it("binds to the wildcard and reports the local address", function()
    local s = assert(pktinfo.udp())
    assert.is_true(s:bind("*", 0))
    local addr, port, family = s:getsockname()
    assert.equal("0.0.0.0", addr); assert.is_true(port > 0); assert.equal("inet", family)
    local s6 = assert(pktinfo.udp("inet6"))
    assert.is_true(s6:bind("*", 0))
    addr, port, family = s6:getsockname()
    assert.equal("::", addr); assert.is_true(port > 0); assert.equal("inet6", family)
    local m = assert(pktinfo.udp("inet6"))
    assert.is_true(m:bind("127.0.0.1", 0))   -- v4 text mapped on a dual-stack socket
    addr, port, family = m:getsockname()
    assert.equal("127.0.0.1", addr); assert.equal("inet", family)
    s:close(); s6:close(); m:close()
  end)

  it("closes idempotently; a closed socket answers nil, 'closed', 'EBADF'", function()
    local s = assert(pktinfo.udp())
    assert.is_true(s:close()); assert.is_true(s:close())
    assert.equal("pktinfo.udp (closed)", tostring(s))
    assert.equal(-1, s:getfd())
    local calls = {
      function() return s:bind("*", 0) end, function() return s:getsockname() end,
      function() return s:setpktinfo(true) end, function() return s:getpktinfo() end,
      function() return s:recv() end, function() return s:sendto("x", "127.0.0.1", 9) end,
      function() return s:reply("x", { from = "127.0.0.1", port = 9 }) end,
      function() return s:setoption("broadcast", true) end,
      function() return s:getoption("broadcast") end,
      function() return s:join("224.0.0.251") end, function() return s:leave("224.0.0.251") end,
    }
    for i, call in ipairs(calls) do
      local a, msg, name = call()
      assert.is_nil(a, "call " .. i); assert.equal("closed", msg); assert.equal("EBADF", name)
    end
  end)

  it("closes at the end of a to-be-closed variable (Lua 5.4)", function()
    if _VERSION ~= "Lua 5.4" then pending("to-be-closed variables need Lua 5.4") end
    local chunk = assert(load([[
      local pktinfo = ...
      local keep
      do
        local s <close> = assert(pktinfo.udp())
        keep = s
      end
      return keep
    ]]))
    local s = chunk(pktinfo)
    assert.equal("pktinfo.udp (closed)", tostring(s))
  end)

  it("has getfd and the cqueues polling protocol", function()
    local s = assert(pktinfo.udp())
    local fd = s:getfd()
    assert.is_true(fd >= 0)
    assert.equal(fd, s:pollfd())
    assert.equal("r", s:events())
    assert.is_nil(s:timeout())
    s:settimeout(1.5); assert.equal(1.5, s:timeout())
    s:settimeout(-1); assert.is_nil(s:timeout())
    s:close()
  end)

  it("reclaims descriptors through garbage collection", function()
    local before = net.open_fds()
    if not before then pending("needs /proc") end
    for _ = 1, 200 do pktinfo.udp() end
    collectgarbage(); collectgarbage()
    local after = net.open_fds()
    local n0, n1 = 0, 0
    for _ in pairs(before) do n0 = n0 + 1 end
    for _ in pairs(after) do n1 = n1 + 1 end
    assert.is_true(n1 <= n0 + 1, ("descriptors %d -> %d"):format(n0, n1))
  end)
end)

describe("wrap", function()
  local socket = require "socket"

  it("adopts a LuaSocket udp object (borrowed: closing ours leaves it open)", function()
    local u = assert(socket.udp4())
    assert(u:setsockname("127.0.0.1", 0))
    local _, uport = u:getsockname()
    local w = assert(pktinfo.wrap(u))
    -- its own duplicate of the descriptor, of the same socket
    assert.is_not_equal(math.floor(u:getfd()), w:getfd())
    local addr, port, family = w:getsockname()
    assert.equal("127.0.0.1", addr); assert.equal(tonumber(uport), port); assert.equal("inet", family)
    assert.is_true(w:setpktinfo(true))
    net.send("127.0.0.1", port, "via luasocket")
    w:settimeout(2)
    local data, info = w:recv()
    assert.equal("via luasocket", data); assert.equal("127.0.0.1", info.addr)
    w:close()
    assert.is_true(u:getfd() >= 0)
    net.send("127.0.0.1", port, "still open")
    u:settimeout(2)
    assert.equal("still open", (u:receive()))
    u:close()
  end)

  it("adopts a descriptor number, owning it only with opts.own", function()
    local u = assert(socket.udp4())
    local fd = u:getfd()
    local w = assert(pktinfo.wrap(fd, { own = true, pktinfo = true }))
    assert.equal(math.floor(fd), w:getfd())
    assert.is_true(w:getpktinfo())
    w:close()
    u:setfd(-1)   -- it is closed now: LuaSocket must not close the number again at gc
    local again, _, name = pktinfo.wrap(fd)
    assert.is_nil(again); assert.equal("EBADF", name)
  end)

  it("refuses a socket object whose descriptor does not exist yet", function()
    local ok, msg, name = pktinfo.wrap(socket.udp())   -- LuaSocket creates lazily
    assert.is_nil(ok); assert.is_string(msg); assert.equal("EBADF", name)
  end)

  it("refuses a descriptor that is not a socket with ENOTSOCK", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    local fds = net.open_fds()
    if not fds then f:close(); os.remove(path); pending("needs /proc to find a file's descriptor") end
    local fd
    for n, target in pairs(fds) do if target == path then fd = n end end
    assert.is_number(fd)
    local ok, msg, name = pktinfo.wrap(fd)
    f:close(); os.remove(path)
    assert.is_nil(ok); assert.is_string(msg); assert.equal("ENOTSOCK", name)
  end)

  it("raises for arguments that are neither a descriptor nor an object with getfd", function()
    assert.has_error(function() pktinfo.wrap("3") end)
    assert.has_error(function() pktinfo.wrap({}) end)
    assert.has_error(function() pktinfo.wrap(3.5) end)
  end)
end)
