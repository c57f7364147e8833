-- A client for the rigs: sends one datagram, waits for the answer and prints
-- where it came from and which of the client's links it arrived on. Not
-- connected, so it sees the real source.
--   lua client.lua DST PORT [IFNAME [BIND]]
-- IFNAME: send out of that link ("-": routed); BIND: the client's own
-- address to bind to (so that the reply's destination is that address).
local pktinfo = require "pktinfo"
local dst, port, ifname, bind = arg[1], tonumber(arg[2]), arg[3], arg[4]
local family = dst:find(":", 1, true) and "inet6" or "inet"
local c = assert(pktinfo.udp(family, { broadcast = true, timeout = 3, pktinfo = true }))
if bind then assert(c:bind(bind, 0)) end
local src = ifname and ifname ~= "-" and { ifindex = assert(pktinfo.ifindex(ifname)) } or nil
local ok, err = c:sendto("who am I?", dst, port, src)
if not ok then print("SENDERR=" .. tostring(err)) os.exit(1) end
local data, info = c:recv()
if not data then print("RECVERR=" .. tostring(info)) os.exit(1) end
print("FROM=" .. info.from)
print("PORT=" .. info.port)
print("VIA=" .. tostring(info.ifindex and pktinfo.ifname(info.ifindex)))
print("DATA=" .. data)
