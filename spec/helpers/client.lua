-- A client for the rig: sends one datagram, waits for the answer and prints
-- where it came from. Not connected, so it sees the real source.
--   lua client.lua DST PORT [IFNAME]     (IFNAME: send out of that link)
local pktinfo = require "pktinfo"
local dst, port, ifname = arg[1], tonumber(arg[2]), arg[3]
local family = dst:find(":", 1, true) and "inet6" or "inet"
local c = assert(pktinfo.udp(family, { broadcast = true, timeout = 3 }))
local src = ifname and { ifindex = assert(pktinfo.ifindex(ifname)) } or nil
local ok, err = c:sendto("who am I?", dst, port, src)
if not ok then print("SENDERR=" .. tostring(err)) os.exit(1) end
local data, info = c:recv()
if not data then print("RECVERR=" .. tostring(info)) os.exit(1) end
print("FROM=" .. info.from)
print("PORT=" .. info.port)
print("DATA=" .. data)
