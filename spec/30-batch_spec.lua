-- recvmany and sendmany on loopback: order, chunks larger than one system
-- call, partial batches, truncation inside a batch, timeouts, packet info
-- per datagram, dual-stack, reuse of a caller's list, replies from a batch,
-- partial send failures and argument errors.
local pktinfo = require "pktinfo"
local net = require "helpers.net"
local gate = require "helpers.gate"

local LO = pktinfo.ifindex("lo")

--- A client bound to 127.0.0.1 with a timeout; returns it and its port.
local function client()
  local c = assert(pktinfo.udp())
  assert(c:bind("127.0.0.1", 0))
  c:settimeout(2)
  local _, port = c:getsockname()
  return c, port
end

describe("recvmany", function()
  it("returns queued datagrams in order, each an info table with data", function()
    local s, port = net.server("inet")
    local c, cport = client()
    for i = 1, 5 do assert(c:sendto("n" .. i, "127.0.0.1", port)) end
    local list = assert(s:recvmany(8))
    assert.equal(5, #list)
    for i, m in ipairs(list) do
      assert.same({ data = "n" .. i, from = "127.0.0.1", port = cport, family = "inet",
                    addr = "127.0.0.1", spec_dst = "127.0.0.1", ifindex = LO,
                    truncated = false }, m)
    end
    s:close(); c:close()
  end)

  it("takes no more than n, leaving the rest queued in order", function()
    local s, port = net.server("inet")
    local c = client()
    for i = 1, 7 do assert(c:sendto(tostring(i), "127.0.0.1", port)) end
    local first = assert(s:recvmany(3))
    assert.equal(3, #first)
    assert.equal("1", first[1].data); assert.equal("3", first[3].data)
    local rest = assert(s:recvmany(10))
    assert.equal(4, #rest)
    assert.equal("4", rest[1].data); assert.equal("7", rest[4].data)
    s:close(); c:close()
  end)

  it("spans several system calls for n above one chunk (100 datagrams)", function()
    local s, port = net.server("inet", "127.0.0.1", { rcvbuf = 1024 * 1024 })
    local c = client()
    for i = 1, 100 do assert(c:sendto(("%03d"):format(i), "127.0.0.1", port)) end
    local got, n = {}, 0
    while n < 100 do
      local list = assert(s:recvmany(100))
      for _, m in ipairs(list) do n = n + 1; got[n] = m.data end
    end
    for i = 1, 100 do assert.equal(("%03d"):format(i), got[i]) end
    s:settimeout(0)
    local none, err, name = s:recvmany(4)
    assert.is_nil(none); assert.equal("timeout", err); assert.equal("ETIMEDOUT", name)
    s:close(); c:close()
  end)

  it("truncates each datagram to size on its own, reporting it per datagram", function()
    local s, port = net.server("inet")
    local c = client()
    for _, d in ipairs { "short", "exactly8", "a much longer datagram", "", "x" } do
      assert(c:sendto(d, "127.0.0.1", port))
    end
    local list = assert(s:recvmany(8, 8))
    assert.equal(5, #list)
    local want = { { "short", false }, { "exactly8", false }, { "a much l", true },
                   { "", false }, { "x", false } }
    for i, w in ipairs(want) do
      assert.equal(w[1], list[i].data); assert.equal(w[2], list[i].truncated)
    end
    s:close(); c:close()
  end)

  it("reports the destination of every datagram in the batch", function()
    local s, port = net.server("inet")
    for i = 1, 6 do net.send("127.0.0." .. i, port, "to " .. i) end
    local list = assert(s:recvmany(6))
    assert.equal(6, #list)
    for i, m in ipairs(list) do
      assert.equal("to " .. i, m.data)
      assert.equal("127.0.0." .. i, m.addr); assert.equal("127.0.0." .. i, m.spec_dst)
      assert.equal(LO, m.ifindex)
    end
    s:close()
  end)

  it("gives no packet info fields while packet info is off", function()
    local s = assert(pktinfo.udp()); assert(s:bind("127.0.0.1", 0)); s:settimeout(2)
    local _, port = s:getsockname()
    net.send("127.0.0.1", port, "plain")
    local list = assert(s:recvmany(2))
    assert.equal("plain", list[1].data)
    assert.is_nil(list[1].addr); assert.is_nil(list[1].ifindex); assert.is_nil(list[1].spec_dst)
    s:close()
  end)

  it("mixes IPv4 and IPv6 datagrams on a dual-stack socket", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s, port = net.server("inet6")
    net.send("127.0.0.7", port, "four")
    net.send("::1", port, "six")
    net.send("127.0.0.8", port, "four again")
    local list = assert(s:recvmany(8))
    assert.equal(3, #list)
    assert.equal("four", list[1].data); assert.equal("inet", list[1].family)
    assert.equal("127.0.0.1", list[1].from); assert.equal("127.0.0.7", list[1].addr)
    assert.equal("127.0.0.7", list[1].spec_dst)
    assert.equal("six", list[2].data); assert.equal("inet6", list[2].family)
    assert.equal("::1", list[2].from); assert.equal("::1", list[2].addr)
    assert.is_nil(list[2].spec_dst)
    assert.equal("127.0.0.8", list[3].addr); assert.equal("inet", list[3].family)
    s:close()
  end)

  it("never waits with settimeout(0), and waits about t seconds with settimeout(t)", function()
    local s = net.server("inet")
    s:settimeout(0)
    local elapsed, none, err, name = net.elapsed(function() return s:recvmany(4) end)
    assert.is_nil(none); assert.equal("timeout", err); assert.equal("ETIMEDOUT", name)
    assert.is_true(elapsed < 0.1)
    s:settimeout(0.2)
    elapsed, none = net.elapsed(function() return s:recvmany(4) end)
    assert.is_nil(none)
    assert.is_true(elapsed >= 0.15 and elapsed < 1.5, "waited " .. elapsed)
    s:close()
  end)

  it("waits for the first datagram only, then returns what is queued", function()
    local s, port = net.server("inet")
    s:settimeout(5)
    net.send_later(0.2, "127.0.0.1", port, "late")
    local elapsed, list = net.elapsed(function() return s:recvmany(16) end)
    assert.is_table(list)
    assert.equal(1, #list); assert.equal("late", list[1].data)
    assert.is_true(elapsed < 4, "waited " .. elapsed)
    s:close()
  end)

  it("refills a caller's list and its tables, cut to the count received", function()
    local s, port = net.server("inet6")
    local c = client()
    for i = 1, 4 do assert(c:sendto("a" .. i, "127.0.0.1", port)) end
    local into = {}
    local list = assert(s:recvmany(8, nil, into))
    assert.equal(into, list); assert.equal(4, #into)
    local t1, t2 = into[1], into[2]
    t1.extra = "kept"                       -- the caller's own fields stay
    for i = 1, 2 do assert(c:sendto("b" .. i, "127.0.0.1", port)) end
    list = assert(s:recvmany(8, nil, into))
    assert.equal(into, list); assert.equal(2, #into)
    assert.equal(t1, into[1]); assert.equal(t2, into[2])
    assert.equal("b1", into[1].data); assert.equal("b2", into[2].data)
    assert.equal("kept", into[1].extra)
    assert.is_nil(into[3])
    local why = gate.ipv6()
    if not why then                         -- an IPv6 datagram clears spec_dst
      net.send("::1", port, "six")
      list = assert(s:recvmany(8, nil, into))
      assert.equal(1, #list); assert.equal(t1, list[1])
      assert.equal("six", t1.data); assert.equal("inet6", t1.family)
      assert.is_nil(t1.spec_dst)
    end
    s:close(); c:close()
  end)

  it("answers nil, 'closed', 'EBADF' once closed, and raises on bad arguments", function()
    local s = net.server("inet")
    assert.has_error(function() s:recvmany() end)
    assert.has_error(function() s:recvmany(0) end)
    assert.has_error(function() s:recvmany(1025) end)
    assert.has_error(function() s:recvmany(4, -1) end)
    assert.has_error(function() s:recvmany(1024, 1024 * 1024) end)
    assert.has_error(function() s:recvmany(4, nil, "list") end)
    local ok, err = pcall(function() return s:recvmany(0) end)
    assert.is_false(ok); assert.matches("count out of range 1..1024", err, 1, true)
    s:close()
    local none, msg, name = s:recvmany(4)
    assert.is_nil(none); assert.equal("closed", msg); assert.equal("EBADF", name)
  end)
end)

describe("sendmany", function()
  it("sends every item in order and returns the count", function()
    local s, port = net.server("inet")
    local c = client()
    local list = {}
    for i = 1, 40 do list[i] = { data = "m" .. i, to = "127.0.0.1", port = port } end
    assert.equal(40, c:sendmany(list))
    local n = 0
    while n < 40 do
      for _, m in ipairs(assert(s:recvmany(64))) do
        n = n + 1
        assert.equal("m" .. n, m.data)
      end
    end
    assert.equal(0, c:sendmany({}))
    s:close(); c:close()
  end)

  it("answers a batch with the received info tables, from the addresses they were sent to", function()
    local s, port = net.server("inet")
    local c, cport = client()
    for i = 1, 3 do assert(c:sendto("q" .. i, "127.0.0." .. (i + 1), port)) end
    local batch = assert(s:recvmany(8))
    assert.equal(3, #batch)
    for _, m in ipairs(batch) do m.data = "re:" .. m.data end
    assert.equal(3, s:sendmany(batch))
    for i = 1, 3 do
      local data, info = c:recv()
      assert.equal("re:q" .. i, data)
      assert.equal("127.0.0." .. (i + 1), info.from); assert.equal(port, info.port)
    end
    assert.equal(cport, batch[1].port)
    s:close(); c:close()
  end)

  it("answers IPv4 and IPv6 peers of a dual-stack socket in one batch", function()
    local why = gate.ipv6(); if why then pending(why) end
    local s, port = net.server("inet6")
    local c4 = client()
    local c6 = assert(pktinfo.udp("inet6")); assert(c6:bind("::1", 0)); c6:settimeout(2)
    assert(c4:sendto("four", "127.0.0.5", port))
    assert(c6:sendto("six", "::1", port))
    local batch = assert(s:recvmany(8))
    assert.equal(2, #batch)
    for _, m in ipairs(batch) do m.data = m.data .. "!" end
    assert.equal(2, s:sendmany(batch))
    local d4, i4 = c4:recv()
    assert.equal("four!", d4); assert.equal("127.0.0.5", i4.from); assert.equal("inet", i4.family)
    local d6, i6 = c6:recv()
    assert.equal("six!", d6); assert.equal("::1", i6.from); assert.equal("inet6", i6.family)
    s:close(); c4:close(); c6:close()
  end)

  it("takes literal sources per item, and to/port over from", function()
    local s, port = net.server("inet")
    local c = assert(pktinfo.udp())
    assert.equal(2, c:sendmany {
      { data = "lit", to = "127.0.0.1", port = port, addr = "127.0.0.9" },
      { data = "to wins", to = "127.0.0.1", port = port, from = "192.0.2.1", addr = "127.0.0.1" },
    })
    local list = assert(s:recvmany(4))
    assert.equal("lit", list[1].data); assert.equal("127.0.0.9", list[1].from)
    assert.equal("to wins", list[2].data)
    s:close(); c:close()
  end)

  it("sends past an item the system refuses: count, message, errname, failed", function()
    local s, port = net.server("inet")
    local c = assert(pktinfo.udp())
    local good = { data = "ok", to = "127.0.0.1", port = port }
    local bad = { data = "bad", to = "127.0.0.1", port = port, addr = "192.0.2.99" }
    local n, err, name, failed = c:sendmany { good, good, bad, good }
    assert.equal(3, n); assert.is_string(err); assert.equal("ENETUNREACH", name)
    assert.same({ 3 }, failed)
    local list = assert(s:recvmany(8))
    assert.equal(3, #list)                  -- the item after the refused one went out
    n, err, name, failed = c:sendmany { bad, good, bad }
    assert.equal(1, n); assert.equal("ENETUNREACH", name); assert.same({ 1, 3 }, failed)
    local none, err2, name2, failed2 = c:sendmany { bad }
    assert.is_nil(none); assert.is_string(err2); assert.equal("ENETUNREACH", name2)
    assert.same({ 1 }, failed2)
    assert.equal(1, #assert(s:recvmany(8)))
    s:settimeout(0)
    assert.is_nil((s:recvmany(8)))
    s:close(); c:close()
  end)

  it("raises on a malformed item before sending anything", function()
    local s, port = net.server("inet")
    local c = assert(pktinfo.udp())
    local good = { data = "ok", to = "127.0.0.1", port = port }
    local cases = {
      { good, "not a table" },
      { good, { to = "127.0.0.1", port = port } },                   -- no data
      { good, { data = "x", to = "localhost", port = port } },       -- not numeric
      { good, { data = "x", port = port } },                         -- no to, no from
      { good, { data = "x", to = "127.0.0.1", port = 70000 } },
      { good, { data = "x", to = "127.0.0.1" } },                    -- no port
      { good, { data = "x", to = "127.0.0.1", port = port, ttl = 300 } },
      { good, { data = "x", to = "127.0.0.1", port = port, addr = "::1" } },
    }
    for _, list in ipairs(cases) do
      local ok, err = pcall(c.sendmany, c, list)
      assert.is_false(ok); assert.matches("bad argument", err)
    end
    assert.has_error(function() c:sendmany("list") end)
    s:settimeout(0.1)
    assert.is_nil((s:recvmany(8)))          -- not even the good items went out
    c:close()
    local none, msg, name = c:sendmany { good }
    assert.is_nil(none); assert.equal("closed", msg); assert.equal("EBADF", name)
    s:close()
  end)
end)
