-- A multi-homed "who am I" UDP server: answers every datagram with what it
-- saw (who sent it, which local address it was sent to, which interface it
-- arrived on), replying with reply() so the answer comes from exactly the
-- address the client asked, even on hosts with many addresses.
--
--   lua5.4 examples/whoami.lua [port [bind-address [count]]]
--   echo hi | socat - UDP:127.0.0.2:5300         # then ask it
--
-- With a count it exits after that many requests (the specs use that).
local pktinfo = require "pktinfo"

local port = tonumber(arg[1]) or 5300
local bind_addr = arg[2] or "*"
local count = tonumber(arg[3])

local family = bind_addr:find(".", 1, true) and "inet" or "inet6"
local sock = assert(pktinfo.udp(family, { pktinfo = true, reuseaddr = true }))
local ok, err = sock:bind(bind_addr, port)
if not ok then
  -- no IPv6 here: serve IPv4 only
  sock = assert(pktinfo.udp("inet", { pktinfo = true, reuseaddr = true }))
  assert(sock:bind(bind_addr == "*" and "*" or bind_addr, port), err)
end
io.stdout:write(("whoami: listening on %s port %d\n"):format(bind_addr, port))
io.stdout:flush()

local info = {}   -- reused for every datagram: the loop allocates only strings
local served = 0
while not count or served < count do
  local data, got = sock:recv(nil, info)
  if data then
    local answer = ("you are %s port %d; you reached %s on %s (ifindex %s)%s\n"):format(
      got.from, got.port, tostring(got.addr),
      got.ifindex and pktinfo.ifname(got.ifindex) or "?", tostring(got.ifindex),
      got.spec_dst and got.spec_dst ~= got.addr and ("; my address there is " .. got.spec_dst) or "")
    local sent, serr = sock:reply(answer, got)
    if not sent then io.stderr:write("whoami: reply failed: ", serr, "\n") end
    served = served + 1
  else
    io.stderr:write("whoami: recv failed: ", tostring(got), "\n")
  end
end
sock:close()
