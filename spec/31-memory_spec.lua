-- The allocation-free server loop, proven: 1,000,000 datagrams through
-- recv(nil, into) and 1,000,000 through recvmany into a reused list, with
-- Lua memory (after a full collection), the process's resident size and
-- its descriptor count checked flat. PKTINFO_MEMORY_COUNT lowers the count
-- for a quick run.
local pktinfo = require "pktinfo"
local net = require "helpers.net"

local COUNT = tonumber(os.getenv("PKTINFO_MEMORY_COUNT")) or 1000000
local BURST = 200                 -- datagrams queued at a time (fits any rcvbuf)
local memory = require "helpers.memory"
local assert_flat = memory.assert_flat

--- Pushes COUNT datagrams through drain(s, n) (which must return the
-- number it received), BURST at a time, sampling memory ten times.
local function pump(drain)
  local s, port = net.server("inet", "127.0.0.1")
  local c = assert(pktinfo.udp())
  local burst = {}
  for i = 1, BURST do burst[i] = { data = "0123456789abcdef", to = "127.0.0.1", port = port } end
  local samples, fds0, fds1 = memory.pump(COUNT, c, burst, s, drain)
  s:close(); c:close()
  return samples, fds0, fds1
end

describe("memory", function()
  it(("stays flat over %d datagrams through recv(nil, into)"):format(COUNT), function()
    local into = {}
    local samples, fds0, fds1 = pump(function(s, want)
      for i = 1, want do
        local data, err = s:recv(nil, into)
        if not data then error("recv: " .. tostring(err)) end
        if into.addr ~= "127.0.0.1" then error("datagram " .. i .. " lost its packet info") end
      end
      return want
    end)
    assert_flat(samples, fds0, fds1)
  end)

  it(("stays flat over %d datagrams through recvmany(32, nil, into)"):format(COUNT), function()
    local into = {}
    local samples, fds0, fds1 = pump(function(s, want)
      local list, err = s:recvmany(want < 32 and want or 32, nil, into)
      if not list then error("recvmany: " .. tostring(err)) end
      if list[#list].addr ~= "127.0.0.1" then error("a batch lost its packet info") end
      return #list
    end)
    assert_flat(samples, fds0, fds1)
  end)

  it(("stays flat over %d datagrams through recvmany(32) with new tables"):format(math.floor(COUNT / 4)), function()
    local saved = COUNT
    COUNT = math.floor(saved / 4)
    local samples, fds0, fds1 = pump(function(s, want)
      local list, err = s:recvmany(want < 32 and want or 32)
      if not list then error("recvmany: " .. tostring(err)) end
      return #list
    end)
    COUNT = saved
    assert_flat(samples, fds0, fds1)
  end)
end)
