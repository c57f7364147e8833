--- Runs inside an nginx worker (spec/40-nginx_spec.lua): a pktinfo UDP
-- socket in non-blocking mode, drained by an ngx.timer.every callback with
-- recvmany; each datagram is answered from the address it was sent to, and
-- the last one's packet info is served over HTTP by report().
local pktinfo = require "pktinfo"

local M = {}
local sock, last, count, err_text = nil, nil, 0, nil

-- Reads everything queued, never waiting (settimeout(0)).
local function drain(premature)
  if premature then sock:close(); return end
  while true do
    local msgs, err = sock:recvmany(32)
    if not msgs then
      if err ~= "timeout" then err_text = err end
      return
    end
    for i = 1, #msgs do
      local m = msgs[i]
      count = count + 1
      last = m
      sock:reply("ack " .. m.data, m)
    end
  end
end

--- Opens a dual-stack socket (IPv4 only where the host has no IPv6) on
-- the wildcard address and starts the timer.
function M.start(port)
  local err
  sock = pktinfo.udp("inet6", { pktinfo = true, reuseaddr = true })
  if not sock then
    sock, err = pktinfo.udp("inet", { pktinfo = true, reuseaddr = true })
  end
  if not sock then ngx.log(ngx.ERR, "pktinfo.udp: ", err); return end
  sock:settimeout(0)
  local ok, berr = sock:bind("*", port)
  if not ok then ngx.log(ngx.ERR, "bind: ", berr); return end
  local tok, terr = ngx.timer.every(0.01, drain)
  if not tok then ngx.log(ngx.ERR, "timer: ", terr) end
  ngx.log(ngx.INFO, "pkdrain: listening on ", port, " with ", tostring(sock))
end

--- "key=value" lines about the last datagram.
function M.report()
  local lines = { "count=" .. count, "lua=" .. (jit and jit.version or _VERSION) }
  if err_text then lines[#lines + 1] = "error=" .. err_text end
  if last then
    for _, k in ipairs { "data", "from", "port", "addr", "ifindex", "spec_dst", "family" } do
      if last[k] ~= nil then lines[#lines + 1] = k .. "=" .. tostring(last[k]) end
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
