-- Segmentation offload (README, "Offload"): options gro and gso on
-- loopback. sendmany with gso sends runs of alike items as UDP_SEGMENT
-- sends, which arrive at a gro socket as one buffer of many datagrams;
-- recv and recvmany must still return one message per datagram, in
-- order, across buffers and calls, each with its own fields, and
-- everything must behave exactly as without offload: the same datagrams,
-- the same results and errors per item. Every datagram here carries its
-- sender's tag and its number in its data.
--
-- Bursts stay under ~200 KB: a buffer that does not fit the receive queue
-- is dropped whole, and Debian's default rmem_max is 208 KiB.
local pktinfo = require "pktinfo"

local rawlen = rawget(_G, "rawlen")
local net = require "helpers.net"
local gate = require "helpers.gate"

local LO = pktinfo.ifindex("lo")
local SIZE = 1200
local COUNT = tonumber(os.getenv("PKTINFO_MEMORY_COUNT")) or 1000000

--- The data of datagram i from tag, size bytes: "tag#000042" padded.
local function payload(tag, i, size)
  local head = ("%s#%06d"):format(tag, i)
  if size < #head then return head:sub(1, size) end
  return head .. ("."):rep(size - #head)
end

--- The tag and number a datagram's data carries.
local function parse(data)
  local tag, i = data:match("^(.-)#(%d+)")
  return tag, tonumber(i)
end

--- A socket of family bound to addr with packet info, gro on, never
-- waiting; returns it and its port.
local function receiver(family, addr)
  local r = assert(pktinfo.udp(family or "inet", { pktinfo = true, rcvbuf = 1048576 }))
  assert(r:bind(addr or "127.0.0.1", 0))
  assert(r:setoption("gro", true))
  r:settimeout(0)
  local _, port = r:getsockname()
  return r, port
end

--- A sender bound to addr with gso as asked; returns it and its port.
local function sender(family, addr, gso)
  local c = assert(pktinfo.udp(family or "inet"))
  assert(c:bind(addr or "127.0.0.1", 0))
  assert(c:setoption("gso", gso ~= false))
  local _, port = c:getsockname()
  return c, port
end

--- sendmany of n datagrams numbered first.. from tag to addr:port.
local function burst(c, tag, first, n, addr, port, size)
  local items = {}
  for i = 1, n do
    items[i] = { data = payload(tag, first + i - 1, size or SIZE), to = addr, port = port }
  end
  assert.equal(n, c:sendmany(items))
end

--- One call's messages: recv(size) (n = 0, its info table with data
-- added) or recvmany(n, size); nil when nothing is queued.
local function take(r, n, size)
  if n == 0 then
    local data, info = r:recv(size)
    if not data then return nil end
    info.data = data
    return { info }
  end
  local list = r:recvmany(n, size)
  if list then assert.is_true(#list >= 1 and #list <= n) end
  return list
end

--- Everything queued on r, through take(r, n, size), as one list.
local function drain(r, n, size)
  local got = {}
  for list in function() return take(r, n, size) end do
    for _, m in ipairs(list) do got[#got + 1] = m end
  end
  return got
end

local no_offload = net.no_offload

describe("options gro and gso", function()
  it("are off on a new socket and turn on; gso turns off, gro stays on once on", function()
    for _, family in ipairs { "inet", "inet6" } do
      local s = assert(pktinfo.udp(family))
      assert.is_false(s:getoption("gro")); assert.is_false(s:getoption("gso"))
      assert.is_true(s:setoption("gro", false)); assert.is_false(s:getoption("gro"))
      if not no_offload() then
        assert.is_true(s:setoption("gro", true)); assert.is_true(s:getoption("gro"))
        assert.is_true(s:setoption("gso", 1)); assert.is_true(s:getoption("gso"))
        -- a buffer coalesced before UDP_GRO went off would come out of
        -- Linux whole and unmarked: off is not an error, and changes nothing
        assert.is_true(s:setoption("gro", false)); assert.is_true(s:getoption("gro"))
      end
      assert.is_true(s:setoption("gso", false)); assert.is_false(s:getoption("gso"))
      assert.is_false(s:dirty())
      s:close()
      assert.same({ nil, "closed", "EBADF" }, { s:setoption("gro", true) })
    end
  end)

  it("on a raw socket, which cannot have them: true, and silently off", function()
    local why = gate.root("raw sockets")
    if why then pending(why) return end
    local s = assert(pktinfo.raw("inet", "udp"))
    assert.is_true(s:setoption("gro", true)); assert.is_false(s:getoption("gro"))
    assert.is_true(s:setoption("gso", true)); assert.is_false(s:getoption("gso"))
    s:close()
  end)

  it("wrap learns that the owner turned gro on, and cuts its buffers", function()
    local why = no_offload()
    if why then pending(why) return end
    local r, port = receiver()
    local w = assert(pktinfo.wrap(r:getfd()))
    assert.is_true(w:getoption("gro"))
    w:settimeout(0)
    local c = sender()
    burst(c, "w", 1, 40, "127.0.0.1", port)
    local got = drain(w, 64)
    assert.equal(40, #got)
    for i, m in ipairs(got) do assert.equal(payload("w", i, SIZE), m.data) end
    w:close(); r:close(); c:close()
  end)
end)

describe("receiving coalesced buffers", function()
  local why = no_offload()

  for _, n in ipairs { 0, 1, 7, 53, 54, 64, 100 } do
    local how = n == 0 and "recv()" or ("recvmany(%d)"):format(n)
    it(how .. ": every datagram once, in order, across buffers and calls, with its fields", function()
      if why then pending(why) return end
      local r, port = receiver()
      local c, cport = sender()
      local got = {}
      for round = 0, 3 do                 -- 3 runs of 54 and one of 2 per round
        burst(c, "c", round * 164 + 1, 164, "127.0.0.1", port)
        if round == 0 then
          for _, m in ipairs(assert(take(r, n))) do got[#got + 1] = m end
          -- the first call took a buffer of 54: what it did not return waits
          -- in the socket, which event loops must see
          if #got < 54 then
            assert.is_true(r:dirty()); assert.equal(0, r:timeout())
          end
        end
        for _, m in ipairs(drain(r, n)) do got[#got + 1] = m end
        assert.is_false(r:dirty())
      end
      assert.equal(4 * 164, #got)
      for i, m in ipairs(got) do
        assert.same({ data = payload("c", i, SIZE), from = "127.0.0.1", port = cport,
                      family = "inet", addr = "127.0.0.1", spec_dst = "127.0.0.1",
                      ifindex = LO, truncated = false }, m)
      end
      r:close(); c:close()
    end)
  end

  it("recv(nil, into) and recvmany(n, nil, into) refill the caller's tables", function()
    if why then pending(why) return end
    local r, port = receiver()
    local c, cport = sender()
    burst(c, "i", 1, 100, "127.0.0.1", port)
    local into = { from = "x", addr = "y", truncated = true }
    local d, info = r:recv(nil, into)
    assert.equal(into, info)
    assert.equal(payload("i", 1, SIZE), d)
    assert.same({ from = "127.0.0.1", port = cport, family = "inet", addr = "127.0.0.1",
                  spec_dst = "127.0.0.1", ifindex = LO, truncated = false }, into)
    local list = {}
    for i = 1, 70 do list[i] = { spec_dst = "x", data = "stale" } end
    local n = 1
    while true do
      local l = r:recvmany(64, nil, list)
      if not l then break end
      assert.equal(list, l)
      for _, m in ipairs(l) do
        n = n + 1
        assert.equal(payload("i", n, SIZE), m.data)
        assert.equal("127.0.0.1", m.spec_dst); assert.equal(cport, m.port)
      end
      assert.is_true(#l <= 64 and (rawlen and rawlen(l) or #l) == #l)
    end
    assert.equal(100, n)
    r:close(); c:close()
  end)

  it("cuts each datagram of a buffer to size, marking it truncated, and loses none", function()
    if why then pending(why) return end
    local r, port = receiver()
    local c = sender()
    burst(c, "t", 1, 60, "127.0.0.1", port)
    local got = drain(r, 7, 500)
    assert.equal(60, #got)
    for i, m in ipairs(got) do
      assert.equal(payload("t", i, SIZE):sub(1, 500), m.data)
      assert.is_true(m.truncated)
    end
    burst(c, "t", 61, 3, "127.0.0.1", port)
    local d, info = r:recv(1199)
    assert.equal(1199, #d); assert.is_true(info.truncated)
    d, info = r:recv(1200)
    assert.equal(payload("t", 62, SIZE), d); assert.is_false(info.truncated)
    assert.equal(payload("t", 63, SIZE), (r:recv()))
    r:close(); c:close()
  end)

  it("on a dual-stack socket: IPv4 and IPv6 flows, each datagram with its family", function()
    if why then pending(why) return end
    local why6 = gate.ipv6()
    if why6 then pending(why6) return end
    local r, port = receiver("inet6", "::")
    local c4, p4 = sender("inet", "127.0.0.1")
    local c6, p6 = sender("inet6", "::1")
    local cm, pm = sender("inet6", "::")        -- dual-stack sender, mapped destination
    burst(c4, "v4", 1, 60, "127.0.0.1", port)
    burst(c6, "v6", 1, 60, "::1", port)
    burst(cm, "vm", 1, 60, "127.0.0.1", port)
    local got = drain(r, 64)
    assert.equal(180, #got)
    local next_of = { v4 = 1, v6 = 1, vm = 1 }
    local want = { v4 = { "127.0.0.1", p4, "inet" }, v6 = { "::1", p6, "inet6" },
                   vm = { "127.0.0.1", pm, "inet" } }
    for _, m in ipairs(got) do
      local tag, i = parse(m.data)
      assert.equal(next_of[tag], i)
      next_of[tag] = i + 1
      assert.same(want[tag], { m.from, m.port, m.family })
      assert.equal(m.from, m.addr)
    end
    r:close(); c4:close(); c6:close(); cm:close()
  end)

  it("close forgets the datagrams the socket kept, and their memory", function()
    if why then pending(why) return end
    local c = sender()
    collectgarbage(); collectgarbage()
    local before = collectgarbage("count")
    local r, port = receiver()
    burst(c, "x", 1, 54, "127.0.0.1", port)
    assert.equal(10, #assert(r:recvmany(10)))
    assert.is_true(r:dirty())
    r:close()
    assert.is_false(r:dirty())
    assert.same({ nil, "closed", "EBADF" }, { r:recvmany(10) })
    r = nil
    collectgarbage(); collectgarbage()
    assert.is_true(collectgarbage("count") - before < 16,
      ("kept %.0f KiB after close"):format(collectgarbage("count") - before))
    c:close()
  end)

  it("socket.select and cqueues' timeout() see datagrams kept in the socket", function()
    if why then pending(why) return end
    local socket = require "socket"
    local r, port = receiver()
    local c = sender()
    burst(c, "s", 1, 54, "127.0.0.1", port)
    assert.equal(1, #assert(r:recvmany(1)))
    -- the kernel's queue is empty now: only dirty() tells select
    local ready = socket.select({ r }, nil, 0)
    assert.equal(r, ready[1])
    assert.equal(0, r:timeout())
    assert.equal(53, #drain(r, 64))
    assert.is_nil(socket.select({ r }, nil, 0)[1])
    r:close(); c:close()
  end)
end)

describe("sending with gso", function()
  local why = no_offload()

  --- What two receivers see of one sendmany of these items: per receiver,
  -- the list of {data, from, ttl}.
  local function deliver(gso, make_items)
    local ra, pa = receiver()
    local rb, pb = receiver()
    assert(ra:setoption("recvttl", true)); assert(rb:setoption("recvttl", true))
    local c = sender("inet", "127.0.0.1", gso)
    local results = { c:sendmany(make_items(pa, pb)) }
    local seen = {}
    for name, r in pairs { a = ra, b = rb } do
      seen[name] = {}
      for _, m in ipairs(drain(r, 64)) do
        seen[name][#seen[name] + 1] = { m.data, m.from, m.ttl }
      end
      r:close()
    end
    c:close()
    return results, seen
  end

  it("mixed sizes, destinations, sources and out values: every item as without gso", function()
    if why then pending(why) return end
    local function items(pa, pb)
      local list, n = {}, 0
      local function add(k, size, port, extra)
        for _ = 1, k do
          n = n + 1
          local item = { data = payload("m", n, size), to = "127.0.0.1", port = port }
          for key, v in pairs(extra or {}) do item[key] = v end
          list[#list + 1] = item
        end
      end
      add(5, 1000, pa); add(1, 600, pa)          -- a run ending in a short item
      add(3, 1000, pa)                           -- a new run after it
      add(3, 1000, pb)                           -- another destination
      add(2, 1000, pa, { out = { ttl = 7 } })    -- other out values
      add(1, 0, pa)                              -- an empty datagram
      add(3, 1000, pa, { addr = "127.0.0.2" })   -- another source
      add(2, 1500, pb)                           -- longer than the run before
      add(70, 100, pa)                           -- more than 64 alike
      return list
    end
    local plain_results, plain = deliver(false, items)
    local gso_results, offloaded = deliver(true, items)
    assert.same({ 90 }, plain_results)
    assert.same(plain_results, gso_results)
    assert.same(plain, offloaded)
    assert.equal(85, #offloaded.a); assert.equal(5, #offloaded.b)
    assert.same({ payload("m", 6, 600), "127.0.0.1", 64 }, offloaded.a[6])
    assert.same({ payload("m", 13, 1000), "127.0.0.1", 7 }, offloaded.a[10])
    assert.same({ "", "127.0.0.1", 64 }, offloaded.a[12])
    assert.same({ payload("m", 16, 1000), "127.0.0.2", 64 }, offloaded.a[13])
  end)

  it("a refused run reports its items as refused, as without gso; the rest go", function()
    if why then pending(why) return end
    local function items(pa)
      local list = {}
      for i = 1, 9 do
        list[i] = { data = payload("r", i, 1000), to = "127.0.0.1", port = pa }
        -- a source this host does not own: the kernel refuses those
        if i >= 4 and i <= 6 then list[i].addr = "192.0.2.1" end
      end
      return list
    end
    local plain_results, plain = deliver(false, items)
    local gso_results, offloaded = deliver(true, items)
    assert.equal(6, plain_results[1])
    assert.is_string(plain_results[2]); assert.is_string(plain_results[3])
    assert.same({ 4, 5, 6 }, plain_results[4])
    assert.same(plain_results, gso_results)
    assert.same(plain, offloaded)
    -- every item refused: nil, err, errname, all of them
    local rx, port = receiver()
    local c = sender()
    local list = items(port)
    for i = 1, 9 do list[i].addr = "192.0.2.1" end
    local res = { c:sendmany(list) }
    assert.is_nil(res[1]); assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9 }, res[4])
    assert.is_true(c:getoption("gso"))     -- refusing datagrams is not refusing gso
    rx:close(); c:close()
  end)

  it("sendto(data, addr, port, {segment = n}): datagrams of n bytes, the last shorter", function()
    if why then pending(why) return end
    for _, gso in ipairs { true, false } do
      local r, port = receiver()
      local c = sender("inet", "127.0.0.1", gso)
      local data = {}
      for i = 1, 3001 do data[i] = string.char(i % 251) end
      data = table.concat(data)
      assert.equal(3001, c:sendto(data, "127.0.0.1", port, { segment = 1000 }))
      assert.equal(10, c:sendto(("y"):rep(10), "127.0.0.1", port, { segment = 1000 }))
      assert.equal(0, c:sendto("", "127.0.0.1", port, { segment = 1000 }))
      assert.equal(2400, c:sendto(("z"):rep(2400), "127.0.0.1", port, { segment = 1200, addr = "127.0.0.3" }))
      local got = drain(r, 64)
      assert.same({ data:sub(1, 1000), data:sub(1001, 2000), data:sub(2001, 3000), data:sub(3001),
                    ("y"):rep(10), "", ("z"):rep(1200), ("z"):rep(1200) },
        { got[1].data, got[2].data, got[3].data, got[4].data, got[5].data, got[6].data,
          got[7].data, got[8].data })
      assert.equal(8, #got)
      assert.equal("127.0.0.3", got[8].from)
      -- a refusal: nil, err, errname (the data was longer than one datagram)
      local res = { c:sendto(data, "127.0.0.1", port, { segment = 1000, addr = "192.0.2.1" }) }
      assert.is_nil(res[1]); assert.is_string(res[3])
      r:close(); c:close()
    end
  end)

  it("sendto's segment: integer 1..65535, at most 1024 datagrams, else it raises", function()
    local c = assert(pktinfo.udp())
    for _, bad in ipairs { 0, -1, 65536, 1.5, "x", true } do
      assert.has_error(function() c:sendto("abc", "127.0.0.1", 9, { segment = bad }) end,
        "bad argument #4 to 'sendto' (segment: integer 1..65535 expected)")
    end
    assert.has_error(function() c:sendto(("x"):rep(1025), "127.0.0.1", 9, { segment = 1 }) end,
      "bad argument #1 to 'sendto' (more than 1024 segments)")
    c:close()
  end)
end)

describe("memory with offload", function()
  local why = no_offload()
  local BURST = 640                      -- 10 sends of 64 datagrams of 100 bytes

  local memory = require "helpers.memory"
  local assert_flat = memory.assert_flat

  --- Pushes COUNT datagrams from a gso sender through drain_fn(r, want),
  -- sampling Lua memory (after full collections) and descriptors.
  local function pump(drain_fn)
    local r, port = receiver()
    local c = sender()
    local items = {}
    for i = 1, BURST do items[i] = { data = payload("p", i, 100), to = "127.0.0.1", port = port } end
    local samples, fds0, fds1 = memory.pump(COUNT, c, items, r, drain_fn)
    r:close(); c:close()
    return samples, fds0, fds1
  end

  it(("stays flat over %d datagrams through recvmany(64, nil, into)"):format(COUNT), function()
    if why then pending(why) return end
    local into = {}
    assert_flat(pump(function(r, want)
      local list = assert(r:recvmany(want < 64 and want or 64, nil, into))
      if list[#list].addr ~= "127.0.0.1" then error("a batch lost its packet info") end
      return #list
    end))
  end)

  it(("stays flat over %d datagrams through recv(nil, into)"):format(math.floor(COUNT / 4)), function()
    if why then pending(why) return end
    local saved, into = COUNT, {}
    COUNT = math.floor(COUNT / 4)
    local samples, fds0, fds1 = pump(function(r, want)
      for _ = 1, want do
        assert(r:recv(nil, into))
        if into.addr ~= "127.0.0.1" then error("a datagram lost its packet info") end
      end
      return want
    end)
    COUNT = saved
    assert_flat(samples, fds0, fds1)
  end)
end)
