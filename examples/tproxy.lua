--- A transparent UDP proxy for IPv4 and IPv6 (README, "Gateways").
--
--   lua5.4 examples/tproxy.lua PORT [IDLE]
--
-- It receives the datagrams a TPROXY rule redirected to PORT, forwards
-- each to where its client sent it (info.orig_dst, info.orig_port: the
-- upstream), and relays every answer back to the client *as* that
-- original destination: from a transparent socket bound to its address
-- and port, so the client (dig, a resolver, a QUIC stack) accepts it.
-- A client and original destination make a session with its own upstream
-- socket; sessions idle for IDLE seconds (default 60) are closed.
--
-- It expects, on this host (here for DNS, port 53, redirected to 5300):
--
--   nft add table inet tproxy
--   nft add chain inet tproxy pre '{ type filter hook prerouting priority mangle; policy accept; }'
--   nft add rule inet tproxy pre udp dport 53 tproxy to :5300 meta mark set 1 accept
--   ip rule add fwmark 1 lookup 100
--   ip route add local 0.0.0.0/0 dev lo table 100
--   ip -6 rule add fwmark 1 lookup 100
--   ip -6 route add local ::/0 dev lo table 100
--
-- and runs as root (transparent sockets need CAP_NET_ADMIN). The clients
-- must route through this host. It uses LuaSocket's socket.select for
-- its loop (at most about 1000 sessions at once, select's limit).
local pktinfo = require "pktinfo"
local socket = require "socket"

local port = tonumber(arg[1])
local idle = tonumber(arg[2] or 60)
if not port then
  io.stderr:write("usage: tproxy.lua PORT [IDLE]\n")
  os.exit(2)
end
io.stdout:setvbuf("line")

-- The listener: dual-stack, so one socket takes both IP versions.
local listener = assert(pktinfo.udp("inet6", { transparent = true, recvorigdst = true }))
assert(listener:bind("*", port))
listener:settimeout(0)

local sessions = {}   -- "client port orig oport" -> session
local by_up = {}      -- upstream socket -> session
local repliers = {}   -- "orig oport" -> { sock = transparent socket, users = n }

local function family(addr) return addr:find(":", 1, true) and "inet6" or "inet" end

--- The transparent socket that answers as orig:oport, made on first use.
local function replier(orig, oport)
  local key = orig .. " " .. oport
  local r = repliers[key]
  if r then r.users = r.users + 1 return r end
  local s, err = pktinfo.udp(family(orig), { transparent = true, reuseaddr = true })
  if s then
    local ok, berr = s:bind(orig, oport)
    if not ok then s:close() s, err = nil, berr end
  end
  if not s then
    print(("tproxy: cannot answer as %s port %d: %s"):format(orig, oport, err))
    return nil
  end
  r = { sock = s, users = 1, key = key }
  repliers[key] = r
  return r
end

--- The session of a redirected datagram, made on its first datagram.
local function session(m)
  local key = table.concat({ m.from, m.port, m.orig_dst, m.orig_port }, " ")
  local s = sessions[key]
  if s then return s end
  local up = assert(pktinfo.udp(family(m.orig_dst)))
  local ok, err = up:setpeername(m.orig_dst, m.orig_port)
  local r = ok and replier(m.orig_dst, m.orig_port)
  if not r then
    if not ok then print(("tproxy: no upstream %s port %d: %s"):format(m.orig_dst, m.orig_port, err)) end
    up:close()
    return nil
  end
  up:settimeout(0)
  s = { key = key, up = up, client = m.from, cport = m.port, reply = r }
  sessions[key], by_up[up] = s, s
  print(("tproxy: %s port %d -> %s port %d"):format(m.from, m.port, m.orig_dst, m.orig_port))
  return s
end

--- Closes a session and, with its last user, its transparent socket.
local function close_session(s)
  sessions[s.key], by_up[s.up] = nil, nil
  s.up:close()
  s.reply.users = s.reply.users - 1
  if s.reply.users == 0 then
    repliers[s.reply.key] = nil
    s.reply.sock:close()
  end
end

--- Forwards what the listener holds, each datagram to its upstream.
local function from_clients(now)
  for _, m in ipairs(listener:recvmany(64) or {}) do
    -- a datagram sent to PORT itself was not redirected: nothing to proxy
    if m.orig_dst and m.orig_port ~= port then
      local s = session(m)
      if s then
        s.last = now
        s.up:send(m.data)
      end
    end
  end
end

--- Relays what an upstream answered to its client, as the original destination.
local function from_upstream(s, now)
  for _, m in ipairs(s.up:recvmany(64) or {}) do
    s.last = now
    s.reply.sock:sendto(m.data, s.client, s.cport)
  end
end

print(("tproxy: relaying UDP redirected to port %d"):format(port))
while true do
  local watch = { listener }
  for up in pairs(by_up) do watch[#watch + 1] = up end
  local ready = socket.select(watch, nil, 1)
  local now = socket.gettime()
  if ready[listener] then from_clients(now) end
  for up, s in pairs(by_up) do
    if ready[up] then from_upstream(s, now) end
  end
  for _, s in pairs(sessions) do
    if now - s.last > idle then close_session(s) end
  end
end
