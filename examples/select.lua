--- An echo server with LuaSocket's socket.select, which accepts pktinfo
-- sockets next to its own (it calls their getfd and dirty methods). A
-- LuaSocket TCP listener shares the loop here to show the mix.
--   lua5.4 examples/select.lua 5300   serve on port 5300 (UDP and TCP)
--   lua5.4 examples/select.lua        demo: two datagrams to itself, then exit
local socket = require "socket"
local pktinfo = require "pktinfo"

local port = tonumber(arg[1])
local sock = assert(pktinfo.udp("inet", { pktinfo = true }))
assert(sock:bind("*", port or 0))
sock:settimeout(0)
local _, bound = sock:getsockname()
local tcp = assert(socket.bind("127.0.0.1", port or 0))
local limit, handled = port and math.huge or 2, 0

if not port then   -- demo: queue one datagram to each of two local addresses
  local c = assert(pktinfo.udp())
  assert(c:sendto("hello", "127.0.0.1", bound))
  assert(c:sendto("hello", "127.0.0.2", bound))
end

while handled < limit do
  local ready = socket.select({ sock, tcp }, nil, port and nil or 5)
  if #ready == 0 then print("timed out") break end
  if ready[sock] then
    for _, msg in ipairs(sock:recvmany(64) or {}) do
      print(pktinfo.describe(msg))
      sock:reply("echo " .. msg.data, msg)
      handled = handled + 1
    end
  end
  if ready[tcp] then
    local client = tcp:accept()
    if client then client:send("use UDP\n") client:close() end
  end
end
sock:close(); tcp:close()
