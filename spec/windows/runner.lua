--- A small portable spec runner with busted's vocabulary (describe, it,
-- pending, before_each, after_each, setup, teardown, finally, and the usual
-- assert forms), for Lua where busted's C dependencies are not built: the
-- Windows lua.exe under Wine. Usage: lua runner.lua spec_file...
-- Prints one line per test and closes with "N passed, N failed, N skipped";
-- exits non-zero if anything failed.

local passed, failed, skipped = 0, 0, 0

-- The error a pending() inside a running test throws.
local PENDING = {}

-- describe blocks as a tree: { name, tests = {...}, before = {}, after = {},
-- setup = {}, teardown = {}, parent }
local root = { name = nil, items = {}, before = {}, after = {}, setup = {}, teardown = {} }
local current = root
local running = nil          -- the test being run: { finally = {...} }

local function full_name(block, name)
  local parts = {}
  while block do
    if block.name then table.insert(parts, 1, block.name) end
    block = block.parent
  end
  parts[#parts + 1] = name
  return table.concat(parts, " ")
end

function describe(name, fn)
  local block = { name = name, items = {}, before = {}, after = {}, setup = {},
                  teardown = {}, parent = current }
  table.insert(current.items, { block = block })
  local saved = current
  current = block
  fn()
  current = saved
end
context = describe

function it(name, fn)
  table.insert(current.items, { test = name, fn = fn, block = nil })
end

--- pending(reason) in a running test stops it as pending; pending(name)
-- outside one declares a pending test.
function pending(reason)
  if running then error(setmetatable({ reason = reason }, PENDING), 0) end
  table.insert(current.items, { test = reason })
end

function before_each(fn) table.insert(current.before, fn) end
function after_each(fn) table.insert(current.after, fn) end
function setup(fn) table.insert(current.setup, fn) end
function teardown(fn) table.insert(current.teardown, fn) end
lazy_setup, lazy_teardown, strict_setup, strict_teardown = setup, teardown, setup, teardown
function finally(fn) table.insert(running.finally, fn) end

---------------------------------------------------------------- asserts

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function deep_equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do if not deep_equal(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local checks = {
  equal = function(want, got) return want == got, ("expected %s, got %s"):format(show(want), show(got)) end,
  same = function(want, got) return deep_equal(want, got), ("expected the same as %s, got %s"):format(show(want), show(got)) end,
  truthy = function(v) return not not v, ("expected truthy, got %s"):format(show(v)) end,
  falsy = function(v) return not v, ("expected falsy, got %s"):format(show(v)) end,
  ["true"] = function(v) return v == true, ("expected true, got %s"):format(show(v)) end,
  ["false"] = function(v) return v == false, ("expected false, got %s"):format(show(v)) end,
  ["nil"] = function(v) return v == nil, ("expected nil, got %s"):format(show(v)) end,
  near = function(want, tol, got) return math.abs(want - got) <= tol, ("expected %s +/- %s, got %s"):format(want, tol, got) end,
  matches = function(pat, s) return type(s) == "string" and s:match(pat) ~= nil, ("expected %s to match %s"):format(show(s), show(pat)) end,
  error = function(fn, want)
    local ok, err = pcall(fn)
    if ok then return false, "expected an error" end
    if want ~= nil and err ~= want then return false, ("expected error %s, got %s"):format(show(want), show(err)) end
    return true, "expected no error, got " .. show(err)
  end,
  error_matches = function(fn, pat)
    local ok, err = pcall(fn)
    if ok then return false, "expected an error" end
    return type(err) == "string" and err:match(pat) ~= nil,
      ("expected an error matching %s, got %s"):format(show(pat), show(err))
  end,
}
checks.equals, checks.are_equal = checks.equal, checks.equal
checks.match = checks.matches
checks.errors = checks.error
checks.type = function(want, v) return type(v) == want, ("expected a %s, got %s"):format(want, type(v)) end

-- Words that only join (assert.is.equal, assert.are.same, assert.has_error).
local filler = { is = true, are = true, has = true, have = true, was = true, does = true, ["do"] = true }

local function chain(words)
  return setmetatable({}, {
    __index = function(_, k)
      local w = {}
      for i = 1, #words do w[i] = words[i] end
      for part in tostring(k):gmatch("[^_]+") do w[#w + 1] = part end
      return chain(w)
    end,
    __call = function(_, ...)
      local negate, name = false, {}
      for _, word in ipairs(words) do
        if word == "not" or word == "no" then negate = not negate
        elseif not filler[word] then name[#name + 1] = word end
      end
      local key = table.concat(name, "_")
      local check = checks[key]
      if not check then error("runner: unknown assertion '" .. key .. "'", 2) end
      local ok, msg = check(...)
      if negate then ok = not ok; msg = "expected not: " .. msg end
      if not ok then error(msg, 2) end
      return ...
    end,
  })
end

local builtin_assert = assert
assert = setmetatable({}, {
  __call = function(_, v, msg, ...)
    if not v then error(msg or "assertion failed!", 2) end
    return v, msg, ...
  end,
  __index = function(_, k) return chain({})[k] end,
})
_G.builtin_assert = builtin_assert

---------------------------------------------------------------- running

local function run_all(list, ...)
  for _, fn in ipairs(list) do fn(...) end
end

local function befores(block, out)
  if block.parent then befores(block.parent, out) end
  for _, fn in ipairs(block.before) do out[#out + 1] = fn end
  return out
end

local function afters(block, out)
  for _, fn in ipairs(block.after) do out[#out + 1] = fn end
  if block.parent then afters(block.parent, out) end
  return out
end

local function report(status, name, detail)
  io.write(status, "  ", name, detail and ("\n      " .. detail) or "", "\n")
  io.flush()
end

local function run_test(block, item)
  local name = full_name(block, item.test)
  if not item.fn then
    skipped = skipped + 1
    report("PENDING", name, "declared pending")
    return
  end
  running = { finally = {} }
  local ok, err = xpcall(function()
    run_all(befores(block, {}))
    item.fn()
  end, function(e)
    if getmetatable(e) == PENDING then return e end
    return tostring(e)
  end)
  local fins = running.finally
  running = nil
  local ok2, err2 = pcall(function()
    run_all(fins)
    run_all(afters(block, {}))
  end)
  if ok and not ok2 then ok, err = false, err2 end
  if ok then
    passed = passed + 1
    report("ok     ", name)
  elseif getmetatable(err) == PENDING then
    skipped = skipped + 1
    report("PENDING", name, err.reason)
  else
    failed = failed + 1
    report("FAIL   ", name, tostring(err))
  end
end

local function run_block(block)
  local ok, err = pcall(run_all, block.setup)
  if not ok then
    failed = failed + 1
    report("FAIL   ", full_name(block, "(setup)"), tostring(err))
    return
  end
  for _, item in ipairs(block.items) do
    if item.test then run_test(block, item) else run_block(item.block) end
  end
  ok, err = pcall(run_all, block.teardown)
  if not ok then
    failed = failed + 1
    report("FAIL   ", full_name(block, "(teardown)"), tostring(err))
  end
end

for _, file in ipairs(arg) do
  local chunk, err = loadfile(file)
  if not chunk then
    failed = failed + 1
    report("FAIL   ", file, err)
  else
    local file_block = { name = nil, items = {}, before = {}, after = {}, setup = {},
                         teardown = {}, parent = nil }
    current = file_block
    local ok, lerr = pcall(chunk)
    current = root
    if not ok then
      failed = failed + 1
      report("FAIL   ", file, tostring(lerr))
    else
      run_block(file_block)
    end
  end
end

print(("%d passed, %d failed, %d skipped"):format(passed, failed, skipped))
os.exit(failed == 0 and 0 or 1)
