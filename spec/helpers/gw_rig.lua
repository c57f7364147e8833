--- Namespace rigs for the gateway specs (README, "Gateways"). Each rig is
-- a mcast_rig object (spec/helpers/mcast_rig.lua: Lua children with
-- rig:spawn / rig:run, rig:exec, rig:ifindex, rig:close) over its own
-- small network, built with `ip` and /proc/sys writes only.
--
-- gw.router(): ICMP errors and path MTU
--   C c0 192.0.2.2/24 2001:db8:1::2 ==== r0 192.0.2.1/24 2001:db8:1::1  R
--   R r1 198.51.100.1/24 2001:db8:2::1 (mtu 1280) ==== s0 198.51.100.2/24 2001:db8:2::2 (mtu 1280) S
--   (S also has 198.51.100.3, .4 and 2001:db8:2::3: fresh destinations
--   whose path MTU the client has not learnt yet)
--   R routes 203.0.113.1 and 2001:db8:3::1 to `prohibit`, 203.0.113.2 and
--   2001:db8:3::2 to `unreachable`; C and S route everything via R.
--
-- gw.twins(): two links carrying the same address (what VRFs give)
--   A a0 192.0.2.2/24 2001:db8:1::2 ==== sa 192.0.2.1/24 2001:db8:1::1  S
--   B b0 192.0.2.2/24 2001:db8:1::2 ==== sb 192.0.2.1/24 2001:db8:1::1  S
--
-- gw.vrfs(): the twins rig with S's links in two VRFs, sa in vrf-a (table
--   10) and sb in vrf-b (table 20): overlapping addresses, each in its own
--   routing domain. gw.no_vrf() says why the kernel cannot (or nil).
--
-- gw.marks(): policy routing by packet mark
--   A a0 192.0.2.2/24 2001:db8:1::2 ==== eth1 192.0.2.1/24 2001:db8:1::1  H
--   B b0 198.51.100.2/24 2001:db8:2::2 ==== eth2 198.51.100.1/24 2001:db8:2::1  H
--   H routes everything via A; marked 7: everything via B (table 200).
--
-- gw.tproxy(): a transparent gateway
--   C c0 192.0.2.2/24 2001:db8:1::2 ==== g0 192.0.2.1/24 2001:db8:1::1  G
--   G g1 198.51.100.1/24 2001:db8:2::1 ==== u0 198.51.100.2/24 2001:db8:2::2  U
--   U holds 203.0.113.53 and 2001:db8:53::53 on lo; C and U route via G.
--   G: nftables `udp dport 53 tproxy to :5300 meta mark set 1`, fwmark 1
--   looked up in table 100, which holds `local 0.0.0.0/0` and `local ::/0`.
local mrig = require "helpers.mcast_rig"

local gw = {}
local counter = 0

--- The interpreter for Lua programs the specs start (as mcast_rig).
function gw.lua() return mrig.LUA end

local function pid()
  local f = io.open("/proc/self/stat")
  local p = f and f:read("*l"):match("^(%d+)")
  if f then f:close() end
  return p or tostring(os.time() % 100000)
end

--- Builds a rig: namespaces named after this process, a counter and a
-- random tag (other runs on the host must not clash), each with loopback
-- up, no duplicate address detection, no reverse-path filter and no ICMP
-- rate limits (the specs count every error). fill(r, ns) adds the links;
-- a failure removes everything made so far.
local function build(keys, fill)
  counter = counter + 1
  math.randomseed(os.time() + tonumber(pid()) + counter)
  local base = ("pkgw-%s-%d-%d"):format(pid(), counter, math.random(1000, 9999))
  local r = setmetatable({ ns = {}, tmp = {}, created = {} }, mrig)
  local ok, err = pcall(function()
    for _, k in ipairs(keys) do
      local n = base .. "-" .. k
      mrig.sh("ip netns add " .. n)
      r.created[#r.created + 1] = n
      r.ns[k] = n
      mrig.sh("ip netns exec " .. n .. " sh -c '" ..
        "for c in all default; do echo 0 > /proc/sys/net/ipv6/conf/$c/accept_dad; " ..
        "echo 0 > /proc/sys/net/ipv4/conf/$c/rp_filter; done; " ..
        "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit; echo 0 > /proc/sys/net/ipv6/icmp/ratelimit; " ..
        "echo 100000 > /proc/sys/net/ipv4/icmp_msgs_per_sec; echo 100000 > /proc/sys/net/ipv4/icmp_msgs_burst'")
      mrig.sh("ip -n " .. n .. " link set lo up")
    end
    fill(r, r.ns)
  end)
  if not ok then r:close(); error(err, 3) end
  return r
end

--- Runs `ip` commands; "@X" names namespace X of r.
local function ip(r, cmds)
  for _, c in ipairs(cmds) do
    mrig.sh((c:gsub("@(%a+)", function(k) return assert(r.ns[k], k) end)))
  end
end

--- A veth pair between namespaces a and b (names da, db), each end with
-- an IPv4 and an IPv6 address (nil: none), up.
local function link(r, a, da, b, db, addr_a, addr6_a, addr_b, addr6_b, mtu)
  ip(r, { ("ip -n @%s link add %s type veth peer name %s netns @%s"):format(a, da, db, b) })
  for _, e in ipairs { { a, da, addr_a, addr6_a }, { b, db, addr_b, addr6_b } } do
    if mtu then ip(r, { ("ip -n @%s link set %s mtu %d"):format(e[1], e[2], mtu) }) end
    if e[3] then ip(r, { ("ip -n @%s addr add %s dev %s"):format(e[1], e[3], e[2]) }) end
    if e[4] then ip(r, { ("ip -n @%s -6 addr add %s dev %s nodad"):format(e[1], e[4], e[2]) }) end
    ip(r, { ("ip -n @%s link set %s up"):format(e[1], e[2]) })
  end
end

--- Turns forwarding on in namespace k.
local function forwarding(r, k)
  mrig.sh("ip netns exec " .. r.ns[k] .. " sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; " ..
    "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'")
end

--- The ICMP rig (see the top).
function gw.router()
  return build({ "c", "r", "s" }, function(r)
    link(r, "c", "c0", "r", "r0", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    link(r, "r", "r1", "s", "s0", "198.51.100.1/24", "2001:db8:2::1/64", "198.51.100.2/24", "2001:db8:2::2/64", 1280)
    forwarding(r, "r")
    ip(r, {
      "ip -n @c route add default via 192.0.2.1", "ip -n @c -6 route add default via 2001:db8:1::1",
      "ip -n @s route add default via 198.51.100.1", "ip -n @s -6 route add default via 2001:db8:2::1",
      "ip -n @s addr add 198.51.100.3/24 dev s0", "ip -n @s addr add 198.51.100.4/24 dev s0",
      "ip -n @s -6 addr add 2001:db8:2::3/64 dev s0 nodad",
      "ip -n @r route add prohibit 203.0.113.1/32", "ip -n @r route add unreachable 203.0.113.2/32",
      "ip -n @r -6 route add prohibit 2001:db8:3::1/128", "ip -n @r -6 route add unreachable 2001:db8:3::2/128",
    })
  end)
end

--- The rig of two links with the same address (see the top).
function gw.twins()
  return build({ "s", "a", "b" }, function(r)
    link(r, "a", "a0", "s", "sa", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    link(r, "b", "b0", "s", "sb", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    r.index = { sa = r:ifindex("s", "sa"), sb = r:ifindex("s", "sb") }
  end)
end

--- nil when this kernel can make a VRF device, else the reason (the
-- test machines' kernel has no CONFIG_NET_VRF).
function gw.no_vrf()
  local n = ("pkgw-vrf-%s-%d"):format(pid(), math.random(1000, 9999))
  mrig.sh("ip netns add " .. n)
  local ok, err = pcall(mrig.sh, "ip -n " .. n .. " link add vrf-probe type vrf table 10")
  mrig.sh("ip netns del " .. n)
  if not ok then
    return "this kernel cannot make VRF devices (CONFIG_NET_VRF): " .. tostring(err):gsub("%s+$", "")
  end
end

--- The VRF rig (see the top).
function gw.vrfs()
  return build({ "s", "a", "b" }, function(r)
    ip(r, {
      "ip -n @s link add vrf-a type vrf table 10", "ip -n @s link set vrf-a up",
      "ip -n @s link add vrf-b type vrf table 20", "ip -n @s link set vrf-b up",
    })
    link(r, "a", "a0", "s", "sa", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    link(r, "b", "b0", "s", "sb", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    -- enslaving cycles each link, which moves its routes into the VRF's table
    ip(r, { "ip -n @s link set sa master vrf-a", "ip -n @s link set sb master vrf-b" })
    r.index = {
      sa = r:ifindex("s", "sa"), sb = r:ifindex("s", "sb"),
      ["vrf-a"] = r:ifindex("s", "vrf-a"), ["vrf-b"] = r:ifindex("s", "vrf-b"),
    }
  end)
end

--- The policy-routing rig (see the top).
function gw.marks()
  return build({ "h", "a", "b" }, function(r)
    link(r, "a", "a0", "h", "eth1", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    link(r, "b", "b0", "h", "eth2", "198.51.100.2/24", "2001:db8:2::2/64", "198.51.100.1/24", "2001:db8:2::1/64")
    ip(r, {
      "ip -n @h route add default via 192.0.2.2", "ip -n @h -6 route add default via 2001:db8:1::2",
      "ip -n @h route add default via 198.51.100.2 table 200",
      "ip -n @h -6 route add default via 2001:db8:2::2 table 200",
      "ip -n @h rule add fwmark 7 lookup 200", "ip -n @h -6 rule add fwmark 7 lookup 200",
    })
  end)
end

--- The nftables rules of the TPROXY gateway: udp port 53 to local port
-- 5300, marked 1 (the lines examples/tproxy.lua's header gives).
gw.NFT = [[
table inet pkgw {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    udp dport 53 tproxy to :5300 meta mark set 1 accept
  }
}
]]

--- How gw.tproxy() fails when the kernel refuses the TPROXY rule (no
-- nf_tables or nft_tproxy): a spec makes that pending, not failed.
gw.NO_TPROXY = "the kernel refused the nftables TPROXY rule"

--- The transparent gateway rig (see the top).
function gw.tproxy()
  return build({ "c", "g", "u" }, function(r)
    link(r, "c", "c0", "g", "g0", "192.0.2.2/24", "2001:db8:1::2/64", "192.0.2.1/24", "2001:db8:1::1/64")
    link(r, "g", "g1", "u", "u0", "198.51.100.1/24", "2001:db8:2::1/64", "198.51.100.2/24", "2001:db8:2::2/64")
    forwarding(r, "g")
    ip(r, {
      "ip -n @c route add default via 192.0.2.1", "ip -n @c -6 route add default via 2001:db8:1::1",
      "ip -n @u route add default via 198.51.100.1", "ip -n @u -6 route add default via 2001:db8:2::1",
      "ip -n @u addr add 203.0.113.53/32 dev lo", "ip -n @u -6 addr add 2001:db8:53::53/128 dev lo",
      "ip -n @g route add 203.0.113.53/32 via 198.51.100.2",
      "ip -n @g -6 route add 2001:db8:53::53/128 via 2001:db8:2::2",
      "ip -n @g rule add fwmark 1 lookup 100", "ip -n @g route add local 0.0.0.0/0 dev lo table 100",
      "ip -n @g -6 rule add fwmark 1 lookup 100", "ip -n @g -6 route add local ::/0 dev lo table 100",
    })
    local f = os.tmpname()
    r.tmp[#r.tmp + 1] = f
    local h = assert(io.open(f, "w")); h:write(gw.NFT); h:close()
    local ok, err = pcall(mrig.sh, "ip netns exec " .. r.ns.g .. " nft -f " .. f)
    -- a rule this file got wrong is a failure; one the kernel cannot run is not
    if not ok and not tostring(err):find("syntax error", 1, true) then
      error(gw.NO_TPROXY .. ": " .. tostring(err), 0)
    end
    assert(ok, err)
  end)
end

return gw
