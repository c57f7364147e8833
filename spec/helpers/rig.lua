--- Namespace rigs for the multi-homed specs: small networks of network
-- namespaces of their own, built with `ip` (iproute2) and /proc/sys
-- writes only (no sysctl: a minimal Debian has no procps).
--
-- rig.up(): the multi-homed server
--   client ns                          server ns
--   ca 198.51.100.2/24 2001:db8:a::2 ==== sa 198.51.100.1/24 2001:db8:a::1
--   cb 203.0.113.2/24  2001:db8:b::2 ==== sb 203.0.113.1/24  2001:db8:b::1
--                                         lo 192.0.2.1/32    2001:db8:1::1  (service)
-- The client routes the service addresses over link A, and link A's
-- server address (198.51.100.1, 2001:db8:a::1) over link B, so a request
-- to one link's address arrives over the other link.
--
-- rig.linklocal(): two links that are both 169.254.0.0/16
--   client A ns  ca 169.254.1.2/16 ==== la 169.254.1.1/16 (metric 100)  server ns
--   client B ns  cb 169.254.2.2/16 ==== lb 169.254.2.1/16 (metric 200)
-- The server routes all of 169.254.0.0/16 over link A (the lower metric),
-- so a reply to client B that is routed instead of sent out of lb is lost
-- (ARP for 169.254.2.2 on link A goes unanswered).
--
-- rig.asymmetric(): the multi-homed links without the service address,
-- where the server routes the client's link-A address (198.51.100.2/32)
-- back over link B: the kernel's spec_dst for a broadcast arriving on
-- link A is then link B's address, 203.0.113.1.
local rig = {}

local function read(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("*a")
  f:close()
  return out
end

-- Runs cmd; returns whether it succeeded and what it printed.
local function sh(cmd)
  local out = read("{ " .. cmd .. "; } 2>&1; echo \"rc=$?\"")
  local rc = out:match("rc=(%d+)%s*$")
  return rc == "0", (out:gsub("rc=%d+%s*$", ""))
end

local function must(cmd)
  local ok, out = sh(cmd)
  if not ok then error("rig: command failed: " .. cmd .. "\n" .. out, 2) end
end

-- This process's id (names must not clash with other runs on the host).
local function pid()
  local f = io.open("/proc/self/stat")
  local id = f and f:read("*l"):match("^(%d+)")
  if f then f:close() end
  return id or "0"
end

--- Writes value to /proc/sys/<path> inside namespace ns (what `sysctl -w`
-- would do, without procps).
function rig.proc_sys(ns, path, value)
  must(("ip netns exec %s sh -c 'echo %s > /proc/sys/%s'"):format(ns, value, path))
end

-- Adds namespace "<prefix><tag>" to r: no duplicate address detection
-- (addresses are usable at once), no reverse-path filter (the rigs route
-- asymmetrically on purpose), loopback up.
local function add_ns(r, prefix)
  local name = prefix .. r.tag
  must("ip netns add " .. name)
  r.namespaces[#r.namespaces + 1] = name
  for _, c in ipairs { "all", "default" } do
    rig.proc_sys(name, "net/ipv6/conf/" .. c .. "/accept_dad", 0)
    rig.proc_sys(name, "net/ipv4/conf/" .. c .. "/rp_filter", 0)
  end
  must("ip -n " .. name .. " link set lo up")
  return name
end

-- Runs each command of cmds, with "-n S" etc. naming the namespaces in map.
local function run_all(cmds, map)
  for _, c in ipairs(cmds) do
    must((c:gsub("%-n (%u+) ", function(k) return "-n " .. assert(map[k], k) .. " " end)))
  end
end

-- Fills r.ifindex[dev] for each { ns, dev } of devs.
local function read_ifindexes(r, devs)
  r.ifindex = r.ifindex or {}
  for _, pair in ipairs(devs) do
    local out = read(("ip -n %s -o link show %s"):format(pair[1], pair[2]))
    r.ifindex[pair[2]] = tonumber(out:match("^(%d+):"))
  end
end

-- Builds a rig with fill(r) (which adds namespaces with add_ns); a failure
-- half-way removes what was made before raising.
local function build(fill)
  math.randomseed(os.time() + tonumber(pid()))
  local r = { namespaces = {}, up = true,
              tag = pid() .. "-" .. tostring(math.random(100000, 999999)) }
  local ok, err = pcall(fill, r)
  if not ok then
    rig.down(r)
    error(err, 3)
  end
  return r
end

--- The multi-homed server rig (see the top); returns it (names,
-- ifindexes, addresses).
function rig.up()
  return build(function(r)
    local S, C = add_ns(r, "pkts"), add_ns(r, "pktc")
    r.server, r.client = S, C
    must(("ip link add sa netns %s type veth peer name ca netns %s"):format(S, C))
    must(("ip link add sb netns %s type veth peer name cb netns %s"):format(S, C))
    run_all({
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
    }, { S = S, C = C })
    read_ifindexes(r, { { S, "sa" }, { S, "sb" }, { C, "ca" }, { C, "cb" } })
    -- link-local addresses appear once the links are up (no DAD here)
    for _ = 1, 50 do
      r.ll_sa = read(("ip -n %s -6 -o addr show dev sa scope link"):format(S)):match("inet6 (fe80::[%x:]+)/")
      r.ll_ca = read(("ip -n %s -6 -o addr show dev ca scope link"):format(C)):match("inet6 (fe80::[%x:]+)/")
      if r.ll_sa and r.ll_ca then break end
      os.execute("sleep 0.1")
    end
  end)
end

--- The rig of two 169.254.0.0/16 links (see the top): r.server,
-- r.client_a, r.client_b, r.ifindex.la/.lb.
function rig.linklocal()
  return build(function(r)
    local S, A, B = add_ns(r, "pkls"), add_ns(r, "pkla"), add_ns(r, "pklb")
    r.server, r.client_a, r.client_b = S, A, B
    must(("ip link add la netns %s type veth peer name ca netns %s"):format(S, A))
    must(("ip link add lb netns %s type veth peer name cb netns %s"):format(S, B))
    run_all({
      "ip -n S addr add 169.254.1.1/16 dev la metric 100",
      "ip -n S addr add 169.254.2.1/16 dev lb metric 200",
      "ip -n S link set la up", "ip -n S link set lb up",
      "ip -n A addr add 169.254.1.2/16 dev ca", "ip -n A link set ca up",
      "ip -n B addr add 169.254.2.2/16 dev cb", "ip -n B link set cb up",
    }, { S = S, A = A, B = B })
    read_ifindexes(r, { { S, "la" }, { S, "lb" } })
  end)
end

--- The asymmetric-route rig (see the top): r.server, r.client,
-- r.ifindex.sa/.sb/.ca/.cb.
function rig.asymmetric()
  return build(function(r)
    local S, C = add_ns(r, "pkas"), add_ns(r, "pkac")
    r.server, r.client = S, C
    must(("ip link add sa netns %s type veth peer name ca netns %s"):format(S, C))
    must(("ip link add sb netns %s type veth peer name cb netns %s"):format(S, C))
    run_all({
      "ip -n S addr add 198.51.100.1/24 dev sa", "ip -n S addr add 203.0.113.1/24 dev sb",
      "ip -n S link set sa up", "ip -n S link set sb up",
      "ip -n C addr add 198.51.100.2/24 dev ca", "ip -n C addr add 203.0.113.2/24 dev cb",
      "ip -n C link set ca up", "ip -n C link set cb up",
      "ip -n S route add 198.51.100.2/32 via 203.0.113.2 dev sb",
    }, { S = S, C = C })
    read_ifindexes(r, { { S, "sa" }, { S, "sb" }, { C, "ca" }, { C, "cb" } })
  end)
end

--- One link whose server end can be renamed and removed: r.server with
-- s0, r.client with c0, IPv6 link-local addresses only (r.ll_s0,
-- r.ll_c0), kept while a link is down (a rename needs it down).
function rig.renaming()
  return build(function(r)
    local S, C = add_ns(r, "pkrs"), add_ns(r, "pkrc")
    r.server, r.client = S, C
    for _, ns in ipairs { S, C } do
      rig.proc_sys(ns, "net/ipv6/conf/all/keep_addr_on_down", 1)
      rig.proc_sys(ns, "net/ipv6/conf/default/keep_addr_on_down", 1)
    end
    must(("ip link add s0 netns %s type veth peer name c0 netns %s"):format(S, C))
    run_all({ "ip -n S link set s0 up", "ip -n C link set c0 up" }, { S = S, C = C })
    read_ifindexes(r, { { S, "s0" }, { C, "c0" } })
    for _ = 1, 50 do
      r.ll_s0 = read(("ip -n %s -6 -o addr show dev s0 scope link"):format(S)):match("inet6 (fe80::[%x:]+)/")
      r.ll_c0 = read(("ip -n %s -6 -o addr show dev c0 scope link"):format(C)):match("inet6 (fe80::[%x:]+)/")
      if r.ll_s0 and r.ll_c0 then break end
      os.execute("sleep 0.1")
    end
    assert(r.ll_s0 and r.ll_c0, "no link-local addresses")
  end)
end

--- Removes a rig (and everything running in it).
function rig.down(r)
  if not (r and r.up) then return end
  for _, ns in ipairs(r.namespaces) do
    -- the shell's own kill: /bin/kill is procps, absent on a minimal system
    sh("for p in $(ip netns pids " .. ns .. "); do kill $p; done")
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
