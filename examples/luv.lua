--- An echo server on libuv (luv). uv.new_poll watches the descriptor from
-- sock:getfd(); with settimeout(0) recvmany never blocks the loop: it takes
-- what is queued and each datagram is answered from the address it was
-- sent to.
--   lua5.4 examples/luv.lua 5300   serve on port 5300
--   lua5.4 examples/luv.lua        demo: two datagrams to itself, then exit
local uv = require "luv"
local pktinfo = require "pktinfo"

local port = tonumber(arg[1])
local sock = assert(pktinfo.udp("inet", { pktinfo = true }))
assert(sock:bind("*", port or 0))
sock:settimeout(0)
local limit, handled = port and math.huge or 2, 0

local poll = uv.new_poll(sock:getfd())
poll:start("r", function(err)
  assert(not err, err)
  local msgs = sock:recvmany(64)             -- nil, "timeout" when drained
  for _, msg in ipairs(msgs or {}) do
    print(pktinfo.describe(msg))
    sock:reply("echo " .. msg.data, msg)
    handled = handled + 1
  end
  if handled >= limit then
    poll:stop(); poll:close()                -- stop watching before closing
    sock:close()
  end
end)

if not port then   -- demo: queue two datagrams, give up after 5 s
  local _, p = sock:getsockname()
  local c = assert(pktinfo.udp())
  assert(c:sendto("hello", "127.0.0.1", p))
  assert(c:sendto("hello", "127.0.0.2", p))
  local timer = uv.new_timer()
  timer:start(5000, 0, function() print("timed out"); uv.stop() end)
  timer:unref()                              -- does not keep the loop alive
end

uv.run()
