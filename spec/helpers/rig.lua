--- The multi-homed test rig, in network namespaces of its own:
--
--   client ns                          server ns
--   ca 198.51.100.2/24 2001:db8:a::2 ==== sa 198.51.100.1/24 2001:db8:a::1
--   cb 203.0.113.2/24  2001:db8:b::2 ==== sb 203.0.113.1/24  2001:db8:b::1
--                                         lo 192.0.2.1/32    2001:db8:1::1  (service)
--
-- The client routes the service addresses over link A, and link A's
-- server address (198.51.100.1, 2001:db8:a::1) over link B, so a request
-- to one link's address arrives over the other link.
local rig = {}

local function sh(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function must(cmd)
  if not sh(cmd) then error("rig: command failed: " .. cmd, 2) end
end

local function read(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("*a")
  f:close()
  return out
end

local build

--- Builds the rig; returns it (names, ifindexes, addresses). A failure
-- half-way removes what was made before raising.
function rig.up()
  local r = {}
  local ok, err = pcall(build, r)
  if not ok then
    rig.down(r)
    error(err, 2)
  end
  return r
end

--- Fills r with a new rig.
function build(r)
  math.randomseed(os.time())
  local tag = tostring(math.random(100000, 999999))
  r.server, r.client = "pkts" .. tag, "pktc" .. tag
  local S, C = r.server, r.client
  r.up = true
  must("ip netns add " .. S)
  must("ip netns add " .. C)
  for _, ns in ipairs { S, C } do
    must("ip netns exec " .. ns .. " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0")
    must("ip -n " .. ns .. " link set lo up")
  end
  must(("ip link add sa netns %s type veth peer name ca netns %s"):format(S, C))
  must(("ip link add sb netns %s type veth peer name cb netns %s"):format(S, C))
  local cmds = {
    "ip -n S addr add 198.51.100.1/24 dev sa", "ip -n S addr add 2001:db8:a::1/64 dev sa nodad",
    "ip -n S addr add 203.0.113.1/24 dev sb", "ip -n S addr add 2001:db8:b::1/64 dev sb nodad",
    "ip -n S addr add 192.0.2.1/32 dev lo", "ip -n S addr add 2001:db8:1::1/128 dev lo",
    "ip -n S link set sa up", "ip -n S link set sb up",
    "ip -n C addr add 198.51.100.2/24 dev ca", "ip -n C addr add 2001:db8:a::2/64 dev ca nodad",
    "ip -n C addr add 203.0.113.2/24 dev cb", "ip -n C addr add 2001:db8:b::2/64 dev cb nodad",
    "ip -n C link set ca up", "ip -n C link set cb up",
    "ip -n C route add 192.0.2.1/32 via 198.51.100.1 dev ca",
    "ip -n C route add 198.51.100.1/32 via 203.0.113.1 dev cb",
    "ip -n C -6 route add 2001:db8:1::1/128 via 2001:db8:a::1 dev ca",
    "ip -n C -6 route add 2001:db8:a::1/128 via 2001:db8:b::1 dev cb",
  }
  for _, c in ipairs(cmds) do must((c:gsub("%-n S ", "-n " .. S .. " "):gsub("%-n C ", "-n " .. C .. " "))) end
  r.ifindex = {}
  for _, pair in ipairs { { S, "sa" }, { S, "sb" }, { C, "ca" }, { C, "cb" } } do
    local out = read(("ip -n %s -o link show %s"):format(pair[1], pair[2]))
    r.ifindex[pair[2]] = tonumber(out:match("^(%d+):"))
  end
  -- link-local addresses appear once the links are up (no DAD here)
  for _ = 1, 50 do
    r.ll_sa = read(("ip -n %s -6 -o addr show dev sa scope link"):format(S)):match("inet6 (fe80::[%x:]+)/")
    r.ll_ca = read(("ip -n %s -6 -o addr show dev ca scope link"):format(C)):match("inet6 (fe80::[%x:]+)/")
    if r.ll_sa and r.ll_ca then break end
    os.execute("sleep 0.1")
  end
  return r
end

--- Removes the rig (and everything running in it).
function rig.down(r)
  if not (r and r.up) then return end
  for _, ns in ipairs { r.server, r.client } do
    sh("ip netns pids " .. ns .. " | xargs -r kill")
    sh("ip netns del " .. ns)
  end
  r.up = false
end

--- The environment prefix that lets a child Lua find the module.
function rig.lua_env()
  return ("LUA_CPATH=%q LUA_PATH=%q"):format(package.cpath, package.path)
end

--- Starts `lua script args...` in namespace ns in the background, bounded
-- by `limit` seconds; waits until its output contains `ready`.
function rig.spawn(ns, lua, script, args, ready, limit)
  local log = os.tmpname()
  os.execute(("%s timeout %d ip netns exec %s %s %s %s >%s 2>&1 &"):format(
    rig.lua_env(), limit or 20, ns, lua, script, args, log))
  for _ = 1, 100 do
    local f = io.open(log)
    local out = f and f:read("*a") or ""
    if f then f:close() end
    if out:find(ready, 1, true) then return log end
    os.execute("sleep 0.05")
  end
  error("rig: " .. script .. " did not start: see " .. log)
end

--- Runs a command in namespace ns and returns its output.
function rig.run(ns, cmd)
  return read(("%s ip netns exec %s %s 2>&1"):format(rig.lua_env(), ns, cmd))
end

return rig
