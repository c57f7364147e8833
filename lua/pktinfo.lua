--- lua-pktinfo: datagram and raw sockets that tell, for every packet, the
-- local address it was sent to and the interface it arrived on.
-- The C module pktinfo.core does all the work; this file adds helpers that
-- are not on the hot path (recv, recvmany, sendto and reply stay C).
local core = require "pktinfo.core"

local pktinfo = {}
for k, v in pairs(core) do pktinfo[k] = v end

--- Formats an info table as one readable line, e.g.
-- "192.0.2.7:5353 -> 192.0.2.1 on eth0 (ifindex 2)".
function pktinfo.describe(info)
  local parts = { string.format(info.family == "inet6" and "[%s]:%d" or "%s:%d",
    tostring(info.from), info.port or 0) }
  if info.addr then
    local name = info.ifindex and core.ifname(info.ifindex)
    parts[#parts + 1] = string.format("-> %s on %s (ifindex %d)", info.addr,
      name or "?", info.ifindex or 0)
    if info.spec_dst and info.spec_dst ~= info.addr then
      parts[#parts + 1] = "spec_dst " .. info.spec_dst
    end
  else
    parts[#parts + 1] = "(no packet info: setpktinfo(true) first)"
  end
  if info.truncated then parts[#parts + 1] = "[truncated]" end
  return table.concat(parts, " ")
end

return pktinfo
