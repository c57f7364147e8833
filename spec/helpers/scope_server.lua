-- The server of spec/17-scope_spec.lua, run in the rig's server namespace:
-- answers a link-local request after its arrival interface was renamed,
-- then another after the interface was removed. Prints KEY=value lines.
-- Usage: lua scope_server.lua PORT
local pktinfo = require "pktinfo"
local port = tonumber(arg[1])
io.stdout:setvbuf("line")

local s = assert(pktinfo.udp("inet6", { pktinfo = true }))
assert(s:bind("*", port))
s:settimeout(10)
print("READY")

local function sh(cmd) assert(os.execute(cmd .. " >/dev/null 2>&1")) end
local function show(...) local t = { ... } for i = 1, 3 do t[i] = tostring(t[i]) end return table.concat(t, " ", 1, 3) end

local _, first = assert(s:recv())
print("FROM1=" .. first.from)
print("IFINDEX1=" .. first.ifindex)
sh("ip link set s0 down && ip link set s0 name s9 && ip link set s9 up")
-- up again once the kernel routes over it (the link-local route returns)
for _ = 1, 50 do
  local f = io.popen("ip -6 route show dev s9 2>/dev/null")
  local routes = f:read("*a"); f:close()
  if routes:find("fe80::/64", 1, true) then break end
  os.execute("sleep 0.1")
end
-- the reply goes out of the interface the request came in on, whatever
-- its name now; the old name in the text names nothing any more
print("REPLY1=" .. show(s:reply("answer 1", first)))
print("SENDTO_OLD_TEXT=" .. show(pcall(s.sendto, s, "x", first.from, first.port)))
local _, second = assert(s:recv())
print("FROM2=" .. second.from)
sh("ip link del s9")
print("REPLY2=" .. show(pcall(s.reply, s, "answer 2", second)))
print("DONE")
