--- An echo server on cqueues. A pktinfo socket speaks cqueues' polling
-- protocol (pollfd, events, timeout), so cqueues.poll(sock) suspends this
-- coroutine until a datagram is queued; recvmany then takes what is there
-- and each datagram is answered from the address it was sent to.
--   lua5.4 examples/cqueues.lua 5300   serve on port 5300
--   lua5.4 examples/cqueues.lua        demo: two datagrams to itself, then exit
local cqueues = require "cqueues"
local pktinfo = require "pktinfo"

local port = tonumber(arg[1])
local sock = assert(pktinfo.udp("inet", { pktinfo = true }))
assert(sock:bind("*", port or 0))
local limit = port and math.huge or 2

if not port then   -- demo: queue one datagram to each of two local addresses
  local _, p = sock:getsockname()
  local c = assert(pktinfo.udp())
  assert(c:sendto("hello", "127.0.0.1", p))
  assert(c:sendto("hello", "127.0.0.2", p))
  sock:settimeout(5)   -- timeout() bounds each poll: the demo cannot hang
end

local cq = cqueues.new()
cq:wrap(function()
  local handled = 0
  while handled < limit do
    cqueues.poll(sock)                       -- other coroutines run meanwhile
    local msgs = assert(sock:recvmany(64))   -- readable: does not wait
    for _, msg in ipairs(msgs) do
      print(pktinfo.describe(msg))
      sock:reply("echo " .. msg.data, msg)
      handled = handled + 1
    end
  end
  cqueues.cancel(sock)   -- cqueues forgets the descriptor before it closes
  sock:close()
end)
assert(cq:loop())
