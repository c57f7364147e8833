-- Gateways in network namespaces (README, "Gateways"), each checked by
-- something other than the module itself:
-- - ICMP errors made by real routers and hosts (spec/helpers/gw_rig.lua,
--   router): port unreachable from a host with no listener, `prohibit`
--   and `unreachable` routes, a 1280-byte link with mtu-discover "do";
--   IPv4, IPv6, and IPv4 on a dual-stack socket. The server says what it
--   received.
-- - option device with two links carrying the same address (twins): who
--   gets each reply is told by the client namespaces, and a socket not
--   bound to a device shows where routing alone sends it.
-- - option device naming a VRF master (vrfs): two VRFs with the same
--   addresses; each socket takes only its VRF's datagrams and answers
--   inside it (pending where the kernel has no VRF support).
-- - option mark with `ip rule fwmark` (marks): tcpdump on the two links
--   says which one each datagram left by.
-- Pending without root.
local gate = require "helpers.gate"
local gw = require "helpers.gw_rig"

-- C: sends one datagram per {kind, dst, port, data} of the list from a
-- socket with recverr on ("inet", "inet6", or "dual": an inet6 socket
-- sending to IPv4 text), and returns recverr()'s data and info for each,
-- then what a last recverr() and recv() say (both must time out).
local ERRORS = [[
  local kind, list = ...
  local items = (loadstring or load)("return " .. list)()
  local s = assert(pktinfo.udp(kind == "inet" and "inet" or "inet6", { recverr = true }))
  s:settimeout(3)
  local out = {}
  for i, it in ipairs(items) do
    assert(s:sendto(it.data, it.dst, it.port))
    local data, info = s:recverr()
    if not data then error("item " .. i .. ": " .. tostring(info)) end
    info.data = data
    out[i] = info
  end
  s:settimeout(0.2)
  out.last = { s:recverr() }
  out.recv = { s:recv() }
  return out
]]

-- S: counts what arrives on port 7000 until a datagram "end"; returns the
-- sizes.
local SINK = [[
  local s = assert(pktinfo.udp("inet6"))
  assert(s:bind("*", 7000))
  s:settimeout(10)
  ready()
  local sizes = {}
  while true do
    local d, err = s:recv()
    if not d then error("sink: " .. tostring(err)) end
    if d == "end" then break end
    sizes[#sizes + 1] = #d
  end
  return sizes
]]

-- C: path MTU discovery with mtu-discover "do" (or mode) toward dst port
-- 7000 on a connected socket; sends 1400 bytes twice, then 1200, then
-- "end", reading recverr() after each 1400.
local PMTU = [[
  local kind, dst, mode = ...
  local m = assert(pktinfo.udp(kind == "inet" and "inet" or "inet6", { recverr = true, ["mtu-discover"] = mode }))
  m:settimeout(3)
  assert(m:setpeername(dst, 7000))
  local out = { mode = m:getoption("mtu-discover"), before = m:getoption("mtu") }
  local big = string.rep("0123456789", 140)
  out.first = { m:send(big) }
  if mode == "do" then
    local d, info = m:recverr(); info.data = d; out.icmp = info
    out.second = { m:send(big) }
    d, info = m:recverr(); info.data = d; out.localerr = info
    out.after = m:getoption("mtu")
  end
  out.small = { m:send(string.rep("s", 1200)) }
  assert(m:send("end"))
  return out
]]

--- The fields recverr's info gives, for comparing whole.
local function fields(info)
  return { to = info.to, port = info.port, family = info.family, err = info.err, origin = info.origin,
           type = info.type, code = info.code, offender = info.offender, mtu = info.mtu,
           truncated = info.truncated, data = info.data }
end

describe("ICMP errors through a router (network namespaces)", function()
  local r

  local function need()
    local why = gate.netns()
    if why then pending(why) return false end
    if not r then r = gw.router() end
    return true
  end

  teardown(function()
    if r then r:close() end
  end)

  --- Sends the list from C and compares each error with its expectation.
  local function check(kind, cases)
    local items, want = {}, {}
    for i, c in ipairs(cases) do
      items[i] = { data = "probe " .. i .. " to " .. c.dst, dst = c.dst, port = c.port }
      want[i] = { to = c.dst, port = c.port, family = c.dst:find(":") and "inet6" or "inet", err = c.err,
                  origin = c.origin, type = c.type, code = c.code, offender = c.offender,
                  truncated = false, data = items[i].data }
    end
    local out = r:run("c", ERRORS, kind, require("helpers.mcast_rig").serialize(items))
    for i = 1, #cases do assert.same(want[i], fields(out[i])) end
    assert.same({ nil, "timeout", "ETIMEDOUT" }, out.last)
    assert.same({ nil, "timeout", "ETIMEDOUT" }, out.recv)
  end

  local V4 = {
    { dst = "198.51.100.2", port = 7001, err = "ECONNREFUSED", origin = "icmp", type = 3, code = 3, offender = "198.51.100.2" },
    { dst = "203.0.113.1", port = 7000, err = "EHOSTUNREACH", origin = "icmp", type = 3, code = 13, offender = "192.0.2.1" },
    { dst = "203.0.113.2", port = 7000, err = "EHOSTUNREACH", origin = "icmp", type = 3, code = 1, offender = "192.0.2.1" },
  }
  local V6 = {
    { dst = "2001:db8:2::2", port = 7001, err = "ECONNREFUSED", origin = "icmp6", type = 1, code = 4, offender = "2001:db8:2::2" },
    { dst = "2001:db8:3::1", port = 7000, err = "EACCES", origin = "icmp6", type = 1, code = 1, offender = "2001:db8:1::1" },
    { dst = "2001:db8:3::2", port = 7000, err = "ENETUNREACH", origin = "icmp6", type = 1, code = 0, offender = "2001:db8:1::1" },
  }

  it("IPv4: port unreachable (ECONNREFUSED, offender the host), prohibit and unreachable routes (EHOSTUNREACH, offender the router)", function()
    if not need() then return end
    check("inet", V4)
  end)

  it("IPv6: port unreachable (ECONNREFUSED), prohibit (EACCES) and unreachable (ENETUNREACH) routes", function()
    if not need() then return end
    check("inet6", V6)
  end)

  it("a dual-stack socket: IPv4 errors as on an inet socket, IPv6 ones as on an inet6 one", function()
    if not need() then return end
    local both = {}
    for i = 1, 3 do both[#both + 1] = V4[i]; both[#both + 1] = V6[i] end
    check("dual", both)
  end)

  --- Runs PMTU in C against a sink in S; returns C's result and S's sizes.
  local function pmtu(kind, dst, mode)
    local sink = r:spawn("s", SINK)
    sink:wait_ready()
    local out = r:run("c", PMTU, kind, dst, mode)
    return out, sink:finish()
  end

  it("mtu-discover dont (IPv4): the router fragments the 1400-byte datagram and it arrives whole", function()
    if not need() then return end
    local out, sizes = pmtu("inet", "198.51.100.4", "dont")
    assert.equal("dont", out.mode)
    assert.same({ 1400 }, out.first)
    assert.same({ 1400, 1200 }, sizes)
  end)

  for _, case in ipairs {
    { "IPv4", "inet", "198.51.100.2", "icmp", 3, 4, "192.0.2.1" },
    { "IPv6", "inet6", "2001:db8:2::2", "icmp6", 2, 0, "2001:db8:1::1" },
    { "IPv4 on a dual-stack socket", "dual", "198.51.100.3", "icmp", 3, 4, "192.0.2.1" },
  } do
    local name, kind, dst, origin, icmp_type, icmp_code, router = case[1], case[2], case[3], case[4], case[5], case[6], case[7]
    it(name .. ": a 1280-byte link and mtu-discover do give EMSGSIZE with mtu 1280 from the router, then at once; mtu 1280", function()
      if not need() then return end
      local out, sizes = pmtu(kind, dst, "do")
      local family = dst:find(":") and "inet6" or "inet"
      assert.equal("do", out.mode)
      assert.equal(1500, out.before)                        -- the client's own link
      assert.same({ 1400 }, out.first)                      -- sent: the router drops it
      local icmp = out.icmp
      assert.is_true(#icmp.data > 0 and #icmp.data < 1400)   -- the part the ICMP message quoted
      assert.equal(string.rep("0123456789", 140):sub(1, #icmp.data), icmp.data)
      icmp.data = nil
      assert.same({ to = dst, port = 7000, family = family, err = "EMSGSIZE", origin = origin, type = icmp_type,
                    code = icmp_code, offender = router, mtu = 1280, truncated = false }, fields(icmp))
      assert.same({ nil, "Message too long", "EMSGSIZE" }, out.second)   -- now known: refused at once
      assert.same({ to = dst, port = 7000, family = family, err = "EMSGSIZE", origin = "local", mtu = 1280,
                    truncated = false, data = "" }, fields(out.localerr))
      assert.equal(1280, out.after)
      assert.same({ 1200 }, out.small)
      assert.same({ 1200 }, sizes)                          -- never the 1400
    end)
  end
end)

-- S: two sockets on the same port, bound to links sa and sb (opts.device,
-- or setoption), and a third on another port bound to no link. Each
-- answers with sendto(data, from, port) and no source; then the sb socket
-- sends "final" to the client on link B. Returns what each saw.
local TWINS = [=[
  local family, how = ...
  local function bound(dev)
    local s
    if how == "opts" then
      s = assert(pktinfo.udp(family, { device = dev, pktinfo = true }))
    else
      s = assert(pktinfo.udp(family, { pktinfo = true }))
      assert(s:setoption("device", dev))
    end
    assert(s:bind("*", 7100))
    s:settimeout(5)
    return s
  end
  local sa, sb = bound("sa"), bound("sb")
  local free = assert(pktinfo.udp(family, { pktinfo = true }))
  assert(free:bind("*", 7101)); free:settimeout(5)
  ready()
  local out = { devices = { sa:getoption("device"), sb:getoption("device"), free:getoption("device") } }
  for _, p in ipairs { { "sa", sa }, { "sb", sb }, { "free", free } } do
    local d, info = p[2]:recv()
    if not d then error(p[1] .. ": " .. tostring(info)) end
    out[p[1]] = { data = d, from = info.from, ifindex = info.ifindex }
    assert(p[2]:sendto("re: " .. d, info.from, info.port))
  end
  assert(sb:sendto("final", family == "inet" and "192.0.2.2" or "2001:db8:1::2", 40000))
  return out
]=]

-- A or B: binds port 40000 and sends to the server, then reads n datagrams.
local CLIENT = [[
  local family, server, n, ctl = ...
  local c = assert(pktinfo.udp(family))
  assert(c:bind("*", 40000)); c:settimeout(5)
  ready()
  local got = {}
  assert(c:sendto("from " .. ctl, server, 7100))
  got[1] = c:recv() or "nothing"
  if ctl == "B" then assert(c:sendto("ctl from B", server, 7101)) end
  for i = 2, tonumber(n) do got[i] = c:recv() or "nothing" end
  return got
]]

describe("option device: two links carrying the same address (network namespaces)", function()
  local r

  local function need()
    local why = gate.netns()
    if why then pending(why) return false end
    if not r then r = gw.twins() end
    return true
  end

  teardown(function()
    if r then r:close() end
  end)

  for _, case in ipairs {
    { "IPv4", "inet", "192.0.2.1", "192.0.2.2", "opts" },
    { "IPv6", "inet6", "2001:db8:1::1", "2001:db8:1::2", "setoption" },
  } do
    local version, family, server, client, how = case[1], case[2], case[3], case[4], case[5]
    it(version .. " (device by " .. how .. "): each socket takes only its link's datagrams and answers on it", function()
      if not need() then return end
      local s = r:spawn("s", TWINS, family, how)
      s:wait_ready()
      local a = r:spawn("a", CLIENT, family, server, 2, "A")
      local b = r:spawn("b", CLIENT, family, server, 2, "B")
      a:wait_ready(); b:wait_ready()
      local got_a, got_b, seen = a:finish(), b:finish(), s:finish()
      assert.same({ "sa", "sb", "" }, seen.devices)
      assert.same({ data = "from A", from = client, ifindex = r.index.sa }, seen.sa)
      assert.same({ data = "from B", from = client, ifindex = r.index.sb }, seen.sb)
      assert.same({ data = "ctl from B", from = client, ifindex = r.index.sb }, seen.free)
      -- each client got its own answer; B's control question, answered by
      -- the socket bound to no link, was routed out of link A (the first
      -- route to 192.0.2.0/24) and reached A, and B got "final" instead
      assert.same({ "re: from A", "re: ctl from B" }, got_a)
      assert.same({ "re: from B", "final" }, got_b)
    end)
  end

  it("reads back the name, unbinds with \"\" or false, refuses names that do not exist", function()
    if not need() then return end
    local out = r:run("s", [[
      local s = assert(pktinfo.udp("inet6"))
      local t = {}
      t[1] = { s:setoption("device", "sb") }; t[2] = { s:getoption("device") }
      t[3] = { s:setoption("device", "") }; t[4] = { s:getoption("device") }
      t[5] = { s:setoption("device", "sa") }; t[6] = { s:setoption("device", false) }; t[7] = { s:getoption("device") }
      local _, _, e1 = s:setoption("device", "nosuch0")
      local _, _, e2 = s:setoption("device", "a-name-longer-than-15")
      local _, _, e3 = pktinfo.udp("inet", { device = "nosuch0" })
      t[8] = { e1, e2, e3 }
      return t
    ]])
    assert.same({ { true }, { "sb" }, { true }, { "" }, { true }, { true }, { "" }, { "ENODEV", "ENODEV", "ENODEV" } }, out)
  end)
end)

-- H: sends "<tag>-v4" and "<tag>-v6" to addresses outside both links from
-- a socket with mark 7 (tag "marked") and one without (tag "plain").
local MARKS = [[
  local out = {}
  for _, tag in ipairs { "marked", "plain" } do
    for _, dst in ipairs { { "inet", "203.0.113.9", "v4" }, { "inet6", "2001:db8:9::9", "v6" } } do
      local s = assert(pktinfo.udp(dst[1], tag == "marked" and { mark = 7 } or nil))
      out[#out + 1] = s:getoption("mark")
      assert(s:sendto(tag .. "-" .. dst[3], dst[2], 9999))
      s:close()
    end
  end
  return out
]]

describe("option mark: policy routing, checked with tcpdump (network namespaces)", function()
  it("a socket with mark 7 leaves by the link of `ip rule fwmark 7`, others by the main table's (IPv4 and IPv6)", function()
    local why = gate.netns() or gate.command("tcpdump")
    if why then pending(why) return end
    local r = gw.marks()
    local ok, err = pcall(function()
      local caps = {}
      for _, link in ipairs { "eth1", "eth2" } do
        local out, log = os.tmpname(), os.tmpname()
        r.tmp[#r.tmp + 1] = out; r.tmp[#r.tmp + 1] = log
        caps[link] = { out = out, log = log }
        os.execute(("timeout 20 ip netns exec %s tcpdump -l -n -A -c 2 -i %s 'udp port 9999' >%s 2>%s &")
          :format(r.ns.h, link, out, log))
      end
      local function slurp(f) local h = io.open(f); local t = h and h:read("*a") or ""; if h then h:close() end; return t end
      local function wait(link, text)
        for _ = 1, 200 do
          if slurp(caps[link].log):find(text, 1, true) then return end
          os.execute("sleep 0.05")
        end
        error("tcpdump on " .. link .. " never said '" .. text .. "': " .. slurp(caps[link].log))
      end
      wait("eth1", "listening on"); wait("eth2", "listening on")
      assert.same({ 7, 7, 0, 0 }, r:run("h", MARKS))
      wait("eth1", "2 packets captured"); wait("eth2", "2 packets captured")
      local eth1, eth2 = slurp(caps.eth1.out), slurp(caps.eth2.out)
      assert.matches("marked%-v4", eth2); assert.matches("marked%-v6", eth2)
      assert.matches("plain%-v4", eth1); assert.matches("plain%-v6", eth1)
      assert.is_nil(eth2:find("plain", 1, true))
      assert.is_nil(eth1:find("marked", 1, true))
    end)
    r:close()
    assert(ok, err)
  end)
end)

-- S: one socket per VRF on the same port, each answering what it gets
-- with reply (the source and interface of the request).
local VRFS = [=[
  local family = ...
  local function bound(dev)
    local s = assert(pktinfo.udp(family, { device = dev, pktinfo = true }))
    assert(s:bind("*", 7100))
    s:settimeout(5)
    return s
  end
  local sa, sb = bound("vrf-a"), bound("vrf-b")
  ready()
  local out = { devices = { sa:getoption("device"), sb:getoption("device") } }
  for _, p in ipairs { { "a", sa }, { "b", sb } } do
    local d, info = p[2]:recv()
    if not d then error(p[1] .. ": " .. tostring(info)) end
    out[p[1]] = { data = d, from = info.from, addr = info.addr, ifindex = info.ifindex }
    assert(p[2]:reply("re: " .. d, info))
  end
  -- nothing else arrived on either (each got only its own VRF's datagram)
  sa:settimeout(0.3); sb:settimeout(0.3)
  out.more = { (sa:recv()), (sb:recv()) }
  return out
]=]

describe("option device naming a VRF master: two VRFs with the same addresses (network namespaces)", function()
  local r

  local function need()
    local why = gate.netns() or gw.no_vrf()
    if why then pending(why) return false end
    if not r then r = gw.vrfs() end
    return true
  end

  teardown(function()
    if r then r:close() end
  end)

  for _, case in ipairs {
    { "IPv4", "inet", "192.0.2.1", "192.0.2.2" },
    { "IPv6", "inet6", "2001:db8:1::1", "2001:db8:1::2" },
  } do
    local version, family, server, client = case[1], case[2], case[3], case[4]
    it(version .. ": each socket takes only its VRF's datagrams and answers inside it", function()
      if not need() then return end
      local s = r:spawn("s", VRFS, family)
      s:wait_ready()
      local a = r:spawn("a", CLIENT, family, server, 1, "A")
      local b = r:spawn("b", CLIENT, family, server, 1, "B")
      a:wait_ready(); b:wait_ready()
      local got_a, got_b, seen = a:finish(), b:finish(), s:finish()
      assert.same({ "vrf-a", "vrf-b" }, seen.devices)
      -- the arrival interface: the link, or the VRF master it belongs to
      for _, k in ipairs { "a", "b" } do
        local link, vrf = r.index["s" .. k], r.index["vrf-" .. k]
        assert.is_true(seen[k].ifindex == link or seen[k].ifindex == vrf,
          ("VRF %s: ifindex %s, neither s%s (%d) nor vrf-%s (%d)"):format(k, tostring(seen[k].ifindex), k, link, k, vrf))
      end
      assert.same({ "from A", client, server }, { seen.a.data, seen.a.from, seen.a.addr })
      assert.same({ "from B", client, server }, { seen.b.data, seen.b.from, seen.b.addr })
      assert.same({}, seen.more)
      assert.same({ "re: from A" }, got_a)
      assert.same({ "re: from B" }, got_b)
    end)
  end
end)
