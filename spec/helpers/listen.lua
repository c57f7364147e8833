-- A listener for the rigs: waits for one datagram and prints who sent it
-- and which link it arrived on, or TIMEOUT.
--   lua listen.lua PORT SECONDS
local pktinfo = require "pktinfo"
local port, seconds = tonumber(arg[1]), tonumber(arg[2])
local s = assert(pktinfo.udp("inet", { pktinfo = true, timeout = seconds }))
assert(s:bind("*", port))
io.stdout:write("READY\n"); io.stdout:flush()
local data, info = s:recv()
if not data then print("TIMEOUT") os.exit(0) end
print("FROM=" .. info.from)
print("VIA=" .. tostring(pktinfo.ifname(info.ifindex)))
print("DATA=" .. data)
