-- Lua code that runs inside a call on the offload paths (README, "Lua
-- code that runs inside a call" and "Offload"). A gro socket holds
-- datagrams of coalesced buffers for the next call; a finalizer at chosen
-- allocations inside recv and recvmany closes the socket, receives on it
-- (recv of 1 MiB, recvmany of 64), receives on another gro socket, turns
-- gro off, or raises. No datagram may come twice, carry another's sender
-- or destination, or be lost while the socket stays open; the calls'
-- lists never interleave, and what is left comes after both. Sends with
-- gso: a finalizer in sendmany or sendto with segment, and item
-- metamethods, close the socket, grow its buffer, turn gso off or raise.
-- Every datagram carries its sender, destination and number in its data.
local pktinfo = require "pktinfo"

local re = require "helpers.reentry"

local SIZE = 300

local function ran_inside(fired, k) return re.ran_inside(fired, k, pending) end

local no_offload = require("helpers.net").no_offload

--- A gro receiver on the wildcard with packet info, and gso senders bound
-- to 127.0.0.10 and 127.0.0.20; send(c, from, dst, n) queues n datagrams
-- (one coalesced buffer) whose data says "from>dst#i".
local function rig()
  local r = assert(pktinfo.udp("inet", { pktinfo = true, rcvbuf = 1048576 }))
  assert(r:bind("*", 0))
  assert(r:setoption("gro", true))
  r:settimeout(0)
  local _, port = r:getsockname()
  local c10 = assert(pktinfo.udp()); assert(c10:bind("127.0.0.10", 0))
  local c20 = assert(pktinfo.udp()); assert(c20:bind("127.0.0.20", 0))
  assert(c10:setoption("gso", true)); assert(c20:setoption("gso", true))
  local function send(c, from, dst, n, to_port)
    local items = {}
    for i = 1, n do
      local head = ("%s>%s#%d."):format(from, dst, i)
      items[i] = { data = head .. ("x"):rep(SIZE - #head), to = dst, port = to_port or port }
    end
    assert.equal(n, c:sendmany(items))
  end
  return r, port, c10, c20, send
end

--- The sender, destination and number a datagram's data says, checked
-- against its info table.
local function consistent(data, info)
  local from, dst, i = data:match("^([%d.]+)>([%d.]+)#(%d+)%.x*$")
  assert.is_truthy(from, "not a datagram of this spec: " .. tostring(data))
  assert.equal(SIZE, #data)
  assert.equal(from, info.from)
  assert.equal(dst, info.addr)
  assert.equal(dst, info.spec_dst)
  assert.equal("inet", info.family)
  assert.is_false(info.truncated)
  return { from = from, i = tonumber(i), key = data:match("^[^x]*") }
end

--- What recv or recvmany returned (spec/helpers/reentry.lua), each
-- datagram checked by consistent.
local function result(res, many)
  return re.results(res, many, consistent)
end

--- Everything r still holds, in order (nil after close: nothing).
local function rest_of(r)
  local got = {}
  while true do
    local list = r:recvmany(64)
    if not list then break end
    for _, m in ipairs(list) do got[#got + 1] = consistent(m.data, m) end
  end
  return got
end

--- The lists (each one call's datagrams, in order) hold no datagram
-- twice; per sender each is in increasing order, no two interleave, and
-- the last (what was left) comes after all the others. Returns the count.
local function no_mixup(lists)
  local seen, n = {}, 0
  local range = {}                       -- range[list][sender] = {lo, hi}
  for li, list in ipairs(lists) do
    range[li] = {}
    for _, d in ipairs(list) do
      assert.is_nil(seen[d.key], "received twice: " .. d.key)
      seen[d.key] = true
      n = n + 1
      local r = range[li][d.from]
      if r then
        assert.is_true(d.i > r[2], "out of order within one call: " .. d.key)
        r[2] = d.i
      else
        range[li][d.from] = { d.i, d.i }
      end
    end
  end
  for a = 1, #lists do
    for b = a + 1, #lists do
      for from, ra in pairs(range[a]) do
        local rb = range[b][from]
        if rb then
          assert.is_true(ra[2] < rb[1] or rb[2] < ra[1], "two calls' datagrams interleave")
          if b == #lists then assert.is_true(ra[2] < rb[1], "what was left came early") end
        end
      end
    end
  end
  return n
end

describe("a finalizer inside a receive with gro", function()
  local why = no_offload()
  local function stale_list()
    local into = {}
    for i = 1, 64 do into[i] = { spec_dst = "x", data = "stale" } end
    return into
  end
  -- name, method, arguments, many, warm (take one datagram first, so that
  -- the call starts with datagrams kept in the socket), allocations
  local receives = {
    { "recv()", "recv", function() return end, false, false, { 1, 2, 3 } },
    { "recv() with datagrams kept", "recv", function() return end, false, true, { 1, 2 } },
    { "recvmany(64)", "recvmany", function() return 64 end, true, false, { 1, 2, 3, 17, 60 } },
    { "recvmany(10) with datagrams kept", "recvmany", function() return 10 end, true, true, { 1, 2, 9 } },
    { "recvmany(64, nil, into)", "recvmany", function() return 64, nil, stale_list() end, true, false, { 1, 2, 30 } },
  }
  for _, case in ipairs(receives) do
    local name, method, args, many, warm, points = case[1], case[2], case[3], case[4], case[5], case[6]
    for _, k in ipairs(points) do
      local at = " (at allocation " .. k .. ")"

      --- Queues 40 + 40 datagrams (two buffers), takes one when warm, and
      -- runs the call with action at allocation k; returns the lists.
      local function run(action, r, c10, c20, send)
        send(c10, "127.0.0.10", "127.0.0.1", 40)
        send(c20, "127.0.0.20", "127.0.0.2", 40)
        local first = {}
        if warm then first = result({ true, assert(r:recvmany(1)) }, true) end
        local fired, res = re.armed(action, k, r, method, args())
        return fired, first, res
      end

      it(name .. " that closes the socket: what it had, or closed" .. at, function()
        if why then pending(why) return end
        local r, _, c10, c20, send = rig()
        local fired, first, res = run(function() r:close() end, r, c10, c20, send)
        if ran_inside(fired, k) then
          no_mixup { first, result(res, many) }
          assert.same({ nil, "closed", "EBADF" }, { r:recv() })
          assert.is_false(r:dirty())
        end
        r:close(); c10:close(); c20:close()
      end)

      for _, inner in ipairs { "recv(1048576)", "recvmany(64)" } do
        it(name .. " that does " .. inner .. " on the same socket: each datagram once, none lost" .. at, function()
          if why then pending(why) return end
          local r, _, c10, c20, send = rig()
          local got = {}
          local fired, first, res = run(function()
            if inner == "recvmany(64)" then
              got = result({ true, r:recvmany(64) or {} }, true)
            else
              local d, info = r:recv(1048576)
              if d then got = { consistent(d, info) } end
            end
          end, r, c10, c20, send)
          if ran_inside(fired, k) then
            local outer = result(res, many)
            assert.equal(80, no_mixup { first, outer, got, rest_of(r) })
          end
          r:close(); c10:close(); c20:close()
        end)
      end

      it(name .. " that receives on another gro socket: nothing attributed to the wrong sender" .. at, function()
        if why then pending(why) return end
        local r, _, c10, c20, send = rig()
        local r2 = assert(pktinfo.udp("inet", { pktinfo = true }))
        assert(r2:bind("*", 0)); assert(r2:setoption("gro", true)); r2:settimeout(0)
        local _, port2 = r2:getsockname()
        send(c20, "127.0.0.20", "127.0.0.2", 30, port2)
        send(c10, "127.0.0.10", "127.0.0.1", 30, port2)
        local other = {}
        local fired, first, res = run(function()
          for _, m in ipairs(r2:recvmany(64) or {}) do other[#other + 1] = consistent(m.data, m) end
        end, r, c10, c20, send)
        if ran_inside(fired, k) then
          assert.equal(80, no_mixup { first, result(res, many), rest_of(r) })
          assert.equal(60, no_mixup { other, rest_of(r2) })
        end
        r:close(); r2:close(); c10:close(); c20:close()
      end)

      it(name .. " that sets gro off (it stays on) and gso on: nothing mixed up" .. at, function()
        if why then pending(why) return end
        local r, _, c10, c20, send = rig()
        local fired, first, res = run(function()
          assert(r:setoption("gro", false)); assert(r:setoption("gso", true))
        end, r, c10, c20, send)
        if ran_inside(fired, k) then
          assert.equal(80, no_mixup { first, result(res, many), rest_of(r) })
          assert.is_true(r:getoption("gro"))
        end
        r:close(); c10:close(); c20:close()
      end)

      it(name .. " that raises: the socket still works, nothing mixed up" .. at, function()
        if why then pending(why) return end
        local r, _, c10, c20, send = rig()
        local fired, first, res = run(function() error("boom") end, r, c10, c20, send)
        if ran_inside(fired, k) then
          assert.is_true(no_mixup { first, result(res, many), rest_of(r) } <= 80)
          send(c10, "127.0.0.10", "127.0.0.1", 5)   -- and it still receives
          assert.equal(5, #rest_of(r))
        end
        r:close(); c10:close(); c20:close()
      end)
    end
  end

  for _, k in ipairs { 3, 4, 7, 12 } do
    it("recvmany(10) whose finalizer takes every kept datagram, then receives anew on the same socket:"
       .. " the buffer the outer call still reads is not reused (at allocation " .. k .. ")", function()
      if why then pending(why) return end
      local r, _, c10, c20, send = rig()
      send(c10, "127.0.0.10", "127.0.0.1", 40)
      send(c20, "127.0.0.20", "127.0.0.2", 40)
      local inner = {}
      local fired, res = re.armed(function()
        -- every datagram kept from the outer call's receive: its buffer
        -- holds none any more, but the outer call is still reading it
        -- (checked after the call: a finalizer only acts and records)
        for _, m in ipairs(r:recvmany(100) or {}) do inner[#inner + 1] = m end
        -- new datagrams, received into whatever buffer the socket has now
        send(c10, "127.0.0.10", "127.0.0.3", 40)
        for _, m in ipairs(r:recvmany(1) or {}) do inner[#inner + 1] = m end
      end, k, r, "recvmany", 10)
      for i, m in ipairs(inner) do inner[i] = consistent(m.data, m) end
      if ran_inside(fired, k) then
        local outer = result(res, true)
        assert.equal(10, #outer)
        for i, d in ipairs(outer) do assert.equal("127.0.0.10>127.0.0.1#" .. i .. ".", d.key) end
        local rest = rest_of(r)
        assert.equal(120, #outer + #inner + #rest)
        local seen = {}
        for _, list in ipairs { outer, inner, rest } do
          for _, d in ipairs(list) do
            assert.is_nil(seen[d.key], "received twice: " .. d.key)
            seen[d.key] = true
          end
        end
      end
      r:close(); c10:close(); c20:close()
    end)
  end

  it("an into table's __newindex and __index are never called (fields are set raw)", function()
    if why then pending(why) return end
    local r, _, c10, c20, send = rig()
    send(c10, "127.0.0.10", "127.0.0.1", 20)
    send(c20, "127.0.0.20", "127.0.0.2", 20)
    assert.equal(39, re.into_untouched(r, consistent))
    r:close(); c10:close(); c20:close()
  end)
end)

describe("a finalizer inside a send with gso", function()
  local why = no_offload()
  local DATA = 123456789012                  -- a number: made a string inside the call
  local DATA2 = 987654321098                 -- sendto's, whose text nothing else keeps

  --- A gro receiver on 127.0.0.1 and a gso sender; returns them and the
  -- receiver's port.
  local function pair()
    local rx = assert(pktinfo.udp("inet", { pktinfo = true, rcvbuf = 1048576 }))
    assert(rx:bind("127.0.0.1", 0)); assert(rx:setoption("gro", true)); rx:settimeout(0)
    local _, port = rx:getsockname()
    local s = assert(pktinfo.udp()); s:settimeout(0)
    assert(s:setoption("gso", true)); assert(s:setoption("gro", true))
    return rx, s, port
  end

  -- name, method, datagrams, data, arguments, the allocations inside (the
  -- first of sendmany is its scratch; sendto's are the data made a string
  -- and the scratch of its segments)
  local sends = {
    { "sendmany(20 alike items)", "sendmany", 20, tostring(DATA), { 1 }, function(port)
        local items = {}
        for i = 1, 20 do items[i] = { data = tostring(DATA), to = "127.0.0.1", port = port, addr = "127.0.0.30" } end
        return items
      end },
    { "sendto(n, a, p, {segment = 4})", "sendto", 3, nil, { 1, 2 }, function(port)
        return DATA2, "127.0.0.1", port, { segment = 4, addr = "127.0.0.30" }
      end },
  }
  for _, case in ipairs(sends) do
    local name, method, count, want, points, args = case[1], case[2], case[3], case[4], case[5], case[6]
    for _, act in ipairs { "close", "grow", "gso off", "raise" } do
      for _, k in ipairs(points) do
        it(name .. " that does " .. act .. " on the sending socket (at allocation " .. k .. ")", function()
          if why then pending(why) return end
          if _VERSION == "Lua 5.2" and act == "raise" then
            pending("Lua 5.2 raises a finalizer's error at a later allocation; tested on 5.1, 5.3, 5.4 and LuaJIT")
            return
          end
          local rx, s, port = pair()
          local fired, res = re.armed(function()
            if act == "close" then s:close()
            elseif act == "grow" then s:recv(1048576)
            elseif act == "gso off" then assert(s:setoption("gso", false))
            else error("boom") end
          end, k, s, method, args(port))
          if ran_inside(fired, k) then
            if res[1] and res[2] == nil then
              assert.same({ "closed", "EBADF" }, { res[3], res[4] })
            elseif not res[1] then
              assert.matches("boom", tostring(res[2]))
            else
              assert.equal(method == "sendmany" and count or 12, res[2])
            end
            local got = {}
            while true do
              local list = rx:recvmany(64)
              if not list then break end
              for _, m in ipairs(list) do
                got[#got + 1] = m.data
                assert.equal("127.0.0.30", m.from)
              end
            end
            if res[1] and res[2] then
              if method == "sendmany" then
                assert.equal(count, #got)
                for _, d in ipairs(got) do assert.equal(want, d) end
              else
                assert.same({ "9876", "5432", "1098" }, got)
              end
            else
              assert.is_true(#got == 0 or #got == count)
            end
          end
          rx:close(); s:close()
        end)
      end
    end
  end

  it("sendmany items whose __index turns gso off, grows the buffer, collects: every item intact", function()
    if why then pending(why) return end
    local rx, s, port = pair()
    local items = {}
    for i = 1, 30 do
      items[i] = setmetatable({}, { __index = function(_, key)
        if i == 15 then s:setoption("gso", i % 2 == 0) end
        s:recv(1048576)
        collectgarbage()
        if key == "data" then return ("item %02d "):format(i) .. ("x"):rep(100) end
        return ({ to = "127.0.0.1", port = port })[key]
      end })
    end
    assert.equal(30, s:sendmany(items))
    local got = {}
    for _, m in ipairs(assert(rx:recvmany(64))) do got[#got + 1] = m.data end
    for _, m in ipairs(rx:recvmany(64) or {}) do got[#got + 1] = m.data end
    assert.equal(30, #got)
    for i = 1, 30 do assert.equal(("item %02d "):format(i) .. ("x"):rep(100), got[i]) end
    rx:close(); s:close()
  end)

  it("a sendmany item whose __index closes the socket: closed, nothing sent", function()
    if why then pending(why) return end
    local rx, s, port = pair()
    local items = {}
    for i = 1, 8 do items[i] = { data = ("d"):rep(100), to = "127.0.0.1", port = port } end
    items[5] = setmetatable({}, { __index = function(_, key) s:close(); return items[1][key] end })
    assert.same({ nil, "closed", "EBADF" }, { s:sendmany(items) })
    assert.is_nil(rx:recvmany(64))
    rx:close()
  end)
end)
