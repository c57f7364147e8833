--- Memory that stays flat over a long run (spec/31-memory_spec.lua,
-- spec/33-offload_spec.lua): the run both make, and the check of its
-- samples.
local assert = require "luassert"
local memory = {}

--- Asserts samples ({lua = KiB, rss = KiB or nil}, one per tenth of the
-- run) after the first (which pays for warm-up) stay within a few KiB of
-- Lua memory, and that the resident size does not climb. An allocator
-- (LuaJIT's above all) may step up once when a collection cycle sets a new
-- high-water mark; a leak climbs in every interval instead. So the largest
-- single step is forgiven and the others together must stay under 512 KiB:
-- a leak of one byte per datagram over the eight intervals after warm-up
-- of a 1,000,000-datagram run (683 KiB) still fails. fds0/fds1: the
-- descriptor counts before and after (one fewer happens when an earlier
-- spec's dropped handle is finalized during the run).
function memory.assert_flat(samples, fds0, fds1)
  assert.is_true(#samples >= 2)
  local base = samples[2]
  for i = 3, #samples do
    local s = samples[i]
    assert.is_true(s.lua - base.lua < 16,
      ("Lua memory grew %.1f -> %.1f KiB"):format(base.lua, s.lua))
  end
  if base.rss then
    local steps, largest, trail = 0, 0, {}
    for i = 3, #samples do
      local step = math.max(0, samples[i].rss - samples[i - 1].rss)
      steps, largest = steps + step, math.max(largest, step)
      trail[#trail + 1] = samples[i].rss
    end
    assert.is_true(steps - largest < 512,
      ("resident size climbs: %d KiB, then %s KiB"):format(base.rss, table.concat(trail, ", ")))
  end
  if fds0 then
    assert.is_true(fds1 <= fds0, ("descriptors grew %d -> %d"):format(fds0, fds1))
  end
end

--- Pushes count datagrams from c through r: each round one c:sendmany(items)
-- then drain(r, want) (which returns how many it received) until all of
-- them are in, sampling Lua memory (after full collections), the resident
-- size and the descriptor count ten times. Returns what assert_flat takes:
-- samples, the descriptors before and after (both sockets still open).
function memory.pump(count, c, items, r, drain)
  local net = require "helpers.net"
  local burst = #items
  local samples, done, every = {}, 0, count / 10
  local next_check = every
  net.lua_kib()                   -- sockets earlier specs dropped go now
  local fds0 = net.fd_count()
  while done < count do
    assert.equal(burst, c:sendmany(items))
    local got = 0
    while got < burst do got = got + drain(r, burst - got) end
    assert.equal(burst, got)
    done = done + got
    if done >= next_check then
      samples[#samples + 1] = { lua = net.lua_kib(), rss = net.rss_kib() }
      next_check = next_check + every
    end
  end
  return samples, fds0, net.fd_count()
end

return memory
