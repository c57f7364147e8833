--- Lua code at a chosen point inside a call (README, "Lua code that runs
-- inside a call"): a finalizer made to run at the k-th allocation of a
-- method, as spec/32-reentry_spec.lua does it, for the specs of other
-- paths (spec/34-offload_reentry_spec.lua).
local assert = require "luassert"
local reentry = {}

local function pack(...) return { n = select("#", ...), ... } end
local newproxy = rawget(_G, "newproxy")

--- An object whose finalizer is fn, dropped at once (5.1/LuaJIT have no
-- table finalizers: newproxy there).
function reentry.drop_with_finalizer(fn)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = fn
  else
    setmetatable({}, { __gc = fn })
  end
end

--- Makes every allocation run a whole collection cycle (finalizers too),
-- or puts the collector back to its defaults.
function reentry.eager_gc(on)
  if _VERSION == "Lua 5.4" then
    collectgarbage("incremental", on and 1 or 200, on and 1000 or 100, on and 40 or 13)
  else
    collectgarbage("setpause", on and 0 or 200)
    collectgarbage("setstepmul", not on and 200 or (jit or _VERSION == "Lua 5.1") and 0 or 1073741824)
  end
end

--- Calls sock[method](sock, ...) with a finalizer armed to run action() at
-- the k-th allocation inside that call (none before or after it counts).
-- Returns whether action ran inside, and pcall's results (up to 5).
function reentry.armed(action, k, sock, method, ...)
  local inside, fired, n = false, false, 0
  local function fin()
    if not inside or fired then return end
    n = n + 1
    if n < k then reentry.drop_with_finalizer(fin) else fired = true; action() end
  end
  local f = sock[method]
  reentry.eager_gc(true)
  collectgarbage()
  reentry.drop_with_finalizer(fin)
  inside = true                          -- nothing is allocated until the call
  local ok, r1, r2, r3, r4 = pcall(f, sock, ...)
  inside = false                         -- nor after it, until here
  reentry.eager_gc(false)
  return fired, pack(ok, r1, r2, r3, r4)
end

--- Whether the finalizer ran inside the call: asserts it did, except on
-- Lua 5.2, whose collector cannot be made to run one at a chosen
-- allocation (it defers finalizers made by finalizers, and those of some
-- steps): there a case it missed is marked with busted's pending (passed
-- in: a required module does not see the spec's globals). Every case runs
-- on 5.1, 5.3, 5.4 and LuaJIT.
function reentry.ran_inside(fired, k, pending)
  if not fired and _VERSION == "Lua 5.2" then
    pending("Lua 5.2 ran no finalizer at allocation " .. k
      .. " of this call; the case is tested on 5.1, 5.3, 5.4 and LuaJIT")
    return false
  end
  assert.is_true(fired, "the finalizer did not run inside the call")
  return true
end

--- What recv or recvmany returned under armed (pcall's results): nothing
-- when the socket was closed inside (nil, "closed", "EBADF") or the
-- finalizer raised "boom" (5.1-5.3 pass that on; 5.4 warns); else
-- check(data, info) of each datagram, in the order received.
function reentry.results(res, many, check)
  local got = {}
  if not res[1] then
    assert.matches("boom", tostring(res[2]))
    return got
  end
  if res[2] == nil then
    assert.same({ "closed", "EBADF" }, { res[3], res[4] })
    return got
  end
  if many then
    for _, m in ipairs(res[2]) do got[#got + 1] = check(m.data, m) end
  else
    got[1] = check(res[2], res[3])
  end
  return got
end

--- Receives one datagram with r:recv(nil, into) and then a batch with
-- r:recvmany(64, nil, list), where into, list and list's first two tables
-- have an __index and a __newindex that close r: the module must set
-- every field raw and never call them. check(data, info) checks each
-- datagram; returns how many the batch held (its raw length).
function reentry.into_untouched(r, check)
  local calls = 0
  local mt = { __newindex = function(t, key, v) calls = calls + 1; r:close(); rawset(t, key, v) end,
               __index = function() calls = calls + 1; r:close() end }
  local into = setmetatable({}, mt)
  local d, info = r:recv(nil, into)
  assert.equal(into, info)
  check(d, info)
  local list = setmetatable({}, mt)
  for i = 1, 2 do rawset(list, i, setmetatable({}, mt)) end
  assert.equal(list, r:recvmany(64, nil, list))
  assert.equal(0, calls)
  local rawlen = rawget(_G, "rawlen")
  local n = rawlen and rawlen(list) or #list
  for i = 1, n do check(rawget(rawget(list, i), "data"), rawget(list, i)) end
  return n
end

return reentry
