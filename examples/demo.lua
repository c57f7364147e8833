-- make demo: one dual-stack UDP socket bound to the wildcard address, with
-- packet info on. Datagrams are sent to several local addresses, IPv4 and
-- IPv6; for each one the socket reports the address it was sent to and the
-- interface it arrived on, then answers with reply() and we check that the
-- answer came back from exactly that address.
local pktinfo = require "pktinfo"

local server = assert(pktinfo.udp("inet6", { pktinfo = true, timeout = 2 }))
local ipv6 = true
if not server:bind("*", 0) then
  -- no IPv6 on this host: fall back to an IPv4-only socket
  server = assert(pktinfo.udp("inet", { pktinfo = true, timeout = 2 }))
  assert(server:bind("*", 0))
  ipv6 = false
end
local _, port = server:getsockname()

print(("lua-pktinfo %s demo: %s bound to the wildcard, port %d, packet info %s")
  :format(pktinfo._VERSION, tostring(server), port, server:getpktinfo() and "on" or "off"))
print()
print(("%-12s %-11s %-12s %-14s %-12s %s"):format(
  "sent to", "family", "addr", "interface", "spec_dst", "reply came from"))

local targets = { "127.0.0.1", "127.0.0.2", "127.0.0.53", "127.1.2.3" }
if ipv6 then targets[#targets + 1] = "::1" end

local failures = 0
for _, target in ipairs(targets) do
  local family = target:find(":", 1, true) and "inet6" or "inet"
  local client = assert(pktinfo.udp(family, { timeout = 2 }))
  assert(client:sendto("who am I talking to?", target, port))
  local _, info = assert(server:recv())
  assert(server:reply("you reached " .. tostring(info.addr), info))
  local _, answer = client:recv()
  local from = answer and answer.from or "(no reply)"
  if from ~= target then failures = failures + 1 end
  print(("%-12s %-11s %-12s %-14s %-12s %s %s"):format(
    target, info.family .. (ipv6 and info.family == "inet" and " (dual)" or ""),
    tostring(info.addr),
    ("%s (%d)"):format(pktinfo.ifname(info.ifindex) or "?", info.ifindex),
    info.spec_dst or "-", from, from == target and "ok" or "WRONG"))
  client:close()
end

print()
print(pktinfo.describe((function()
  local c = assert(pktinfo.udp())
  c:sendto("last", "127.0.0.2", port)
  c:close()
  local _, info = server:recv()
  return info
end)()))
server:close()
if failures > 0 then
  print(failures .. " replies came from the wrong address")
  os.exit(1)
end
print("every reply came from the address its request was sent to")
