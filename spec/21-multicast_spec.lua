-- Multicast with the interface it arrived on, for real in network
-- namespaces (spec/helpers/mcast_rig.lua): H has two links (eth1 to A,
-- eth2 to B) and joins one group on both; a datagram sent to the group by
-- A arrives on eth1 and one sent by B on eth2, and recv() must say so
-- (ifindex compared with `ip -o link` inside H). Replies to multicast come
-- from the receiving link's own unicast address. join/leave, the options
-- multicast-ttl, multicast-loop and multicast-if, and the mDNS responder
-- example against real clients (socat, dig). Pending without root.
local gate = require "helpers.gate"
local rig = require "helpers.mcast_rig"

-- H: a socket of `kind` ("inet", "inet6" dual-stack, "v6only") on port,
-- joined to group on each interface of the comma-separated list (a name,
-- or "#N" for an index); receives n datagrams, answers each with reply()
-- and returns their info tables.
local RECEIVER = [[
  local kind, port, group, ifaces, n = ...
  local family = kind == "inet" and "inet" or "inet6"
  local s = assert(pktinfo.udp(family, { pktinfo = true, v6only = kind == "v6only" or nil }))
  assert(s:bind("*", tonumber(port)))
  assert(s:setoption("recvttl", true))
  for iface in ifaces:gmatch("[^,]+") do
    local ok, err = s:join(group, tonumber(iface:match("^#(%d+)$")) or iface)
    if not ok then error("join " .. group .. " on " .. iface .. ": " .. tostring(err)) end
  end
  s:settimeout(10)
  ready()
  local out = {}
  for i = 1, tonumber(n) do
    local data, info = s:recv()
    if not data then error("recv: " .. tostring(info)) end
    info.data = data
    out[i] = info
    assert(s:reply("re:" .. data, info))
  end
  return out
]]

-- A or B: sends data to group:port from a socket of family and returns
-- the info table of the reply.
local ASK = [[
  local family, group, port, data = ...
  local s = assert(pktinfo.udp(family, { pktinfo = true, timeout = 10 }))
  assert(s:bind("*", 0))
  assert(s:sendto(data, group, tonumber(port)))
  local reply, info = s:recv()
  if not reply then error("no reply: " .. tostring(info)) end
  info.data = reply
  return info
]]

-- A or B: joins group on eth0, says ready, receives n datagrams; returns
-- their data and ttl.
local LISTEN = [[
  local family, group, port, n = ...
  local s = assert(pktinfo.udp(family, { pktinfo = true, timeout = 10 }))
  assert(s:bind("*", tonumber(port)))
  assert(s:setoption("recvttl", true))
  assert(s:join(group, "eth0"))
  ready()
  local out = {}
  for i = 1, tonumber(n) do
    local data, info = s:recv()
    if not data then error("recv: " .. tostring(info)) end
    out[i] = { data = data, ttl = info.ttl, addr = info.addr, ifindex = info.ifindex }
  end
  return out
]]

describe("multicast with the arrival interface (network namespaces)", function()
  local r
  local port = 7100

  setup(function()
    if not gate.netns() then r = rig.new() end
  end)

  teardown(function()
    if r then r:close() end
  end)

  local function need_rig()
    local why = gate.netns()
    if why then pending(why) end
    assert(r, "the namespace rig could not be built")
  end

  local function next_port()
    port = port + 1
    return port
  end

  -- Each case: H's socket kind, the peers' family, the group as H joins
  -- it, the group as a peer sends to it, and the reply source A and B
  -- must see (nil: H's link-local address on that link).
  local cases = {
    { "inet", "inet", "224.1.2.3", "224.1.2.3", "192.0.2.1", "198.51.100.1" },
    { "inet6", "inet", "224.1.2.3", "224.1.2.3", "192.0.2.1", "198.51.100.1" },
    { "inet6", "inet6", "ff12::1234", "ff12::1234%eth0" },
    { "v6only", "inet6", "ff12::1234", "ff12::1234%eth0" },
    { "inet6", "inet6", "ff15::1234", "ff15::1234", "2001:db8:1::1", "2001:db8:2::1" },
  }
  for _, c in ipairs(cases) do
    local kind, family, group, sendto, from_a, from_b = c[1], c[2], c[3], c[4], c[5], c[6]
    it(("receives %s on each of two links with that link's ifindex, on a %s socket, and replies from the link's own address")
        :format(group, kind), function()
      need_rig()
      local p = next_port()
      -- joined by name on one link and by index on the other
      local h = r:spawn("h", RECEIVER, kind, p, group, "eth1,#" .. r.index.h.eth2, 2)
      h:wait_ready()
      local ra = r:run("a", ASK, family, sendto, p, "from A")
      local rb = r:run("b", ASK, family, sendto, p, "from B")
      local got = h:finish()

      assert.equal("from A", got[1].data)
      assert.equal(r.index.h.eth1, got[1].ifindex)
      assert.equal("from B", got[2].data)
      assert.equal(r.index.h.eth2, got[2].ifindex)
      for i = 1, 2 do
        assert.equal(group, got[i].addr)
        assert.equal(family, got[i].family)
      end
      if family == "inet" then
        assert.equal("192.0.2.2", got[1].from)
        assert.equal("192.0.2.1", got[1].spec_dst)   -- the link's own address
        assert.equal("198.51.100.1", got[2].spec_dst)
      end
      -- the replies come from the receiving link's unicast address, never
      -- from the group
      from_a = from_a or (r:linklocal("h", "eth1") .. "%eth0")
      from_b = from_b or (r:linklocal("h", "eth2") .. "%eth0")
      assert.equal("re:from A", ra.data)
      assert.equal(from_a, ra.from)
      assert.equal("re:from B", rb.data)
      assert.equal(from_b, rb.from)
    end)
  end

  for _, c in ipairs { { "inet", "inet", "224.1.2.4", "192.0.2.1" },
                       { "inet6", "inet6", "ff15::4", "2001:db8:1::1" } } do
    local kind, family, group, h_addr = c[1], c[2], c[3], c[4]
    it("stops receiving a group on a link it left, and keeps it on the other (" .. family .. ")", function()
      need_rig()
      local p = next_port()
      local h = r:spawn("h", [[
        local kind, port, group = ...
        local s = assert(pktinfo.udp(kind, { pktinfo = true, timeout = 10 }))
        assert(s:bind("*", tonumber(port)))
        assert(s:join(group, "eth1"))
        assert(s:join(group, "eth2"))
        local again = { s:join(group, "eth2") }
        assert(s:leave(group, "eth1"))
        local twice = { s:leave(group, "eth1") }
        ready()
        local out = { again = again[3], twice = twice[3] }
        for i = 1, 2 do
          local data, info = s:recv()
          if not data then error("recv: " .. tostring(info)) end
          out[i] = { data = data, ifindex = info.ifindex }
        end
        return out
      ]], kind, p, group)
      h:wait_ready()
      -- A's group datagram would come before its unicast one, on the same
      -- link: if H still heard the group on eth1 it would be first
      r:run("a", [[
        local family, group, port, h_addr = ...
        local s = assert(pktinfo.udp(family))
        assert(s:sendto("group on eth1", group, tonumber(port)))
        assert(s:sendto("unicast on eth1", h_addr, tonumber(port)))
        return {}
      ]], family, group, p, h_addr)
      r:run("b", [[
        local family, group, port = ...
        local s = assert(pktinfo.udp(family))
        assert(s:sendto("group on eth2", group, tonumber(port)))
        return {}
      ]], family, group, p)
      local got = h:finish()
      assert.equal("EADDRINUSE", got.again)
      assert.equal("EADDRNOTAVAIL", got.twice)
      assert.same({ data = "unicast on eth1", ifindex = r.index.h.eth1 }, got[1])
      assert.same({ data = "group on eth2", ifindex = r.index.h.eth2 }, got[2])
    end)
  end

  for _, c in ipairs { { "inet", "232.1.1.1", "192.0.2.2", "192.0.2.3" },
                       { "inet6", "232.1.1.1", "192.0.2.2", "192.0.2.3" },
                       { "inet6", "ff35::1234", "2001:db8:1::2", "2001:db8:1::3" } } do
    local kind, group, source, other = c[1], c[2], c[3], c[4]
    it(("joins %s for source %s only (source-specific), on a %s socket"):format(group, source, kind), function()
      need_rig()
      local p = next_port()
      r:exec("a", ("ip %s addr add %s dev eth0 %s 2>/dev/null || true")
        :format(other:find(":") and "-6" or "", other, other:find(":") and "nodad" or ""))
      local h = r:spawn("h", [[
        local kind, port, group, source = ...
        local s = assert(pktinfo.udp(kind, { pktinfo = true, timeout = 10 }))
        assert(s:bind("*", tonumber(port)))
        assert(s:join(group, "eth1", source))
        local mixed = select(2, pcall(s.join, s, group, "eth1", source:find(":") and "192.0.2.9" or "2001:db8::9"))
        ready()
        local data, info = s:recv()
        if not data then error("recv: " .. tostring(info)) end
        local left = { s:leave(group, "eth1", source) }
        local again = { s:leave(group, "eth1", source) }
        return { data = data, from = info.from, ifindex = info.ifindex, addr = info.addr,
                 left = left[1], again = again[3], mixed = mixed }
      ]], kind, p, group, source)
      h:wait_ready()
      -- the datagram from the other source comes first on the same link:
      -- had the filter let it through, H would have received it first
      r:run("a", [[
        local group, port, source, other = ...
        local s = assert(pktinfo.udp(source:find(":") and "inet6" or "inet"))
        assert(s:setoption("multicast-if", "eth0"))
        assert(s:sendto("from the other source", group, tonumber(port), { addr = other }))
        assert(s:sendto("from the source", group, tonumber(port), { addr = source }))
        return {}
      ]], group, p, source, other)
      local got = h:finish()
      assert.same({ data = "from the source", from = source, ifindex = r.index.h.eth1, addr = group },
                  { data = got.data, from = got.from, ifindex = got.ifindex, addr = got.addr })
      assert.is_true(got.left)
      assert.equal("EINVAL", got.again)   -- Linux's answer to leaving a source not joined
      assert.is_truthy(got.mixed:find("different IP versions", 1, true)
                       or got.mixed:find("IPv6 address on an inet socket", 1, true), got.mixed)
    end)
  end

  it("refuses what is not a group and an interface that does not exist", function()
    need_rig()
    local res = r:run("h", [[
      local s4 = assert(pktinfo.udp("inet"))
      local s6 = assert(pktinfo.udp("inet6"))
      local out = {}
      out.unicast4 = select(3, s4:join("192.0.2.1"))
      out.unicast6 = select(3, s6:join("2001:db8:1::1", "eth1"))
      out.badif = select(3, s4:join("224.1.2.3", "no-such-if"))
      out.v6on4 = select(2, pcall(s4.join, s4, "ff12::1"))
      out.noname = select(2, pcall(s4.join, s4, "mdns.local"))
      -- no interface: the kernel takes the one its route to the group
      -- names, and H has no route to 224.0.0.0/4
      out.default_if = select(3, s4:join("224.1.2.3"))
      out.default_if6 = s6:join("ff12::1", 0)
      s4:close()
      out.closed = select(2, s4:join("224.1.2.3"))
      return out
    ]])
    assert.equal("EINVAL", res.unicast4)
    assert.equal("EINVAL", res.unicast6)
    assert.equal("ENODEV", res.badif)
    assert.matches("IPv6 address on an inet socket", res.v6on4)
    assert.matches("not a numeric IP address", res.noname)
    assert.equal("ENODEV", res.default_if)
    assert.is_true(res.default_if6)
    assert.equal("closed", res.closed)
  end)

  it("reads multicast-ttl, multicast-loop and multicast-if back from the kernel", function()
    need_rig()
    local res = r:run("h", [[
      local out = {}
      for _, kind in ipairs { "inet", "inet6" } do
        local s = assert(pktinfo.udp(kind))
        local o = {}
        out[kind] = o
        o.ttl_default = s:getoption("multicast-ttl")
        assert(s:setoption("multicast-ttl", 9))
        o.ttl = s:getoption("multicast-ttl")
        o.loop_default = s:getoption("multicast-loop")
        assert(s:setoption("multicast-loop", false))
        o.loop = s:getoption("multicast-loop")
        assert(s:setoption("multicast-if", "eth2"))
        o.iface = s:getoption("multicast-if")
        o.ttl_bad = select(3, s:setoption("multicast-ttl", 256))
      end
      return out
    ]])
    for _, kind in ipairs { "inet", "inet6" } do
      local o = res[kind]
      assert.equal(1, o.ttl_default, kind)
      assert.equal(9, o.ttl, kind)
      assert.is_true(o.loop_default, kind)
      assert.is_false(o.loop, kind)
      assert.equal("EINVAL", o.ttl_bad, kind)
    end
    assert.equal(r.index.h.eth2, res.inet6.iface)
    -- Linux reports IPv4's multicast-if as an address: 0.0.0.0 when it
    -- was set by interface index (ip_mreqn), as here
    assert.equal("0.0.0.0", res.inet.iface)
  end)

  for _, c in ipairs { { "inet", "inet", "224.1.2.5", "192.0.2.2", "198.51.100.2" },
                       { "inet6", "inet6", "ff15::5", "2001:db8:1::2", "2001:db8:2::2" },
                       { "inet6", "inet", "224.1.2.5", "192.0.2.2", "198.51.100.2" } } do
    local kind, family, group, a_addr, b_addr = c[1], c[2], c[3], c[4], c[5]
    it(("sends to %s out of the link multicast-if or the source's ifindex names, with multicast-ttl, from a %s socket")
        :format(group, kind), function()
      need_rig()
      local p = next_port()
      local a = r:spawn("a", LISTEN, family, group, p, 2)
      local b = r:spawn("b", LISTEN, family, group, p, 2)
      a:wait_ready()
      b:wait_ready()
      r:run("h", [[
        local kind, group, port, eth1, a_addr, b_addr = ...
        port = tonumber(port)
        local s = assert(pktinfo.udp(kind))
        assert(s:setoption("multicast-ttl", 9))
        assert(s:setoption("multicast-if", "eth2"))
        assert(s:sendto("via multicast-if", group, port))
        assert(s:sendto("via ifindex", group, port, { ifindex = tonumber(eth1), ttl = 3 }))
        -- then one unicast datagram to each: had either group datagram
        -- gone out of the other link, it would come before this one
        assert(s:sendto("unicast", a_addr, port))
        assert(s:sendto("unicast", b_addr, port))
        return {}
      ]], kind, group, p, r.index.h.eth1, a_addr, b_addr)
      local ga, gb = a:finish(), b:finish()
      assert.same({ "via ifindex", 3, group, r.index.a.eth0 }, { ga[1].data, ga[1].ttl, ga[1].addr, ga[1].ifindex })
      assert.equal("unicast", ga[2].data)
      assert.same({ "via multicast-if", 9, group, r.index.b.eth0 }, { gb[1].data, gb[1].ttl, gb[1].addr, gb[1].ifindex })
      assert.equal("unicast", gb[2].data)
    end)
  end

  for _, c in ipairs { { "inet", "224.1.2.6", "127.0.0.1" }, { "inet6", "ff15::6", "::1" },
                       { "inet6", "224.1.2.6", "127.0.0.1" } } do
    local kind, group, lo = c[1], c[2], c[3]
    it(("loops its own datagrams to %s back to local members only with multicast-loop on (%s socket)")
        :format(group, kind), function()
      need_rig()
      local res = r:run("h", [[
        local kind, group, lo = ...
        local family = group:find(":") and "inet6" or "inet"
        local rx = assert(pktinfo.udp(family, { pktinfo = true, timeout = 10 }))
        assert(rx:bind("*", 0))
        assert(rx:join(group, "eth1"))
        local _, port = rx:getsockname()
        local tx = assert(pktinfo.udp(kind))
        assert(tx:setoption("multicast-if", "eth1"))
        assert(tx:sendto("looped", group, port))
        local d1, i1 = assert(rx:recv())
        assert(tx:setoption("multicast-loop", false))
        assert(tx:sendto("not looped", group, port))
        assert(tx:sendto("marker", lo, port))
        local d2 = assert(rx:recv())
        return { d1 = d1, addr = i1.addr, ifindex = i1.ifindex, d2 = d2 }
      ]], kind, group, lo)
      assert.equal("looped", res.d1)
      assert.equal(group, res.addr)
      assert.equal(r.index.h.eth1, res.ifindex)
      assert.equal("marker", res.d2)
    end)
  end

  describe("the mDNS responder example against real clients", function()
    -- A query for box.local (type qtype), as a one-shot querier sends it.
    local function query(qtype)
      return string.char(0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
        .. "\3box\5local\0" .. string.char(0, qtype, 0, 1)
    end

    local function responder(n)
      local h = r:spawn_cmd("h", rig.LUA .. " examples/mdns_responder.lua box eth1 eth2 --count " .. n)
      h:wait_for("^mdns_responder: box%.local")
      return h
    end

    local function need_command(cmd)
      local why = gate.command(cmd)
      if why then pending(why) end
    end

    it("answers a multicast query from socat on each link with that link's address, from that address", function()
      need_rig()
      need_command("socat")
      local qa, qaaaa = os.tmpname(), os.tmpname()
      local f = assert(io.open(qa, "wb")); f:write(query(1)); f:close()
      f = assert(io.open(qaaaa, "wb")); f:write(query(28)); f:close()
      local h = responder(4)
      -- socat's range= drops a reply from any other source; -t bounds the
      -- wait for it
      local function ask(ns, target, src, file)
        return r:spawn_cmd(ns, ("socat -t 5 - %s,range=%s < %s | od -An -v -tx1"):format(target, src, file))
      end
      local ll1, ll2 = r:linklocal("h", "eth1"), r:linklocal("h", "eth2")
      local jobs = {
        ask("a", "UDP4-DATAGRAM:224.0.0.251:5353", "192.0.2.1/32", qa),
        ask("b", "UDP4-DATAGRAM:224.0.0.251:5353", "198.51.100.1/32", qa),
        ask("a", "UDP6-DATAGRAM:[ff02::fb%eth0]:5353", "[" .. ll1 .. "]/128", qaaaa),
        ask("b", "UDP6-DATAGRAM:[ff02::fb%eth0]:5353", "[" .. ll2 .. "]/128", qaaaa),
      }
      local out = {}
      for i, j in ipairs(jobs) do out[i] = j:rest():gsub("%s+", "") end
      local log = h:rest()
      os.remove(qa)
      os.remove(qaaaa)
      -- each answer carries the address of the link it was asked on
      assert.matches("000100010000000a0004c0000201$", out[1])
      assert.matches("000100010000000a0004c6336401$", out[2])
      assert.matches("001c00010000000a001020010db8000100000000000000000001$", out[3])
      assert.matches("001c00010000000a001020010db8000200000000000000000001$", out[4])
      assert.matches("224%.0%.0%.251 on eth1 %(ifindex " .. r.index.h.eth1 .. "%) spec_dst 192%.0%.2%.1", log)
      assert.matches("224%.0%.0%.251 on eth2 %(ifindex " .. r.index.h.eth2 .. "%) spec_dst 198%.51%.100%.1", log)
    end)

    it("answers dig's unicast queries on each link (A and AAAA)", function()
      need_rig()
      need_command("dig")
      local h = responder(3)
      local function dig(ns, server, qtype)
        local out = r:exec(ns, ("dig +short +time=10 +tries=1 -p 5353 @%s box.local %s"):format(server, qtype))
        return (out:gsub("%s+$", ""))
      end
      assert.equal("192.0.2.1", dig("a", "192.0.2.1", "A"))
      assert.equal("198.51.100.1", dig("b", "198.51.100.1", "A"))
      assert.equal("2001:db8:2::1", dig("b", "2001:db8:2::1", "AAAA"))
      h:rest()
    end)

    it("is heard by socat joined to the group on the link it was sent out of", function()
      need_rig()
      need_command("socat")
      local p = next_port()
      local s = r:spawn_cmd("b", ("socat -u UDP4-RECVFROM:%d,ip-add-membership=224.1.2.7:eth0,reuseaddr -"):format(p))
      -- socat is ready once it is a member and bound (polled, bounded)
      local ready = false
      for _ = 1, 2000 do
        local m = r:exec("b", "ip maddr show dev eth0") .. r:exec("b", "ss -lun")
        if m:find("224.1.2.7", 1, true) and m:find(":" .. p, 1, true) then ready = true; break end
      end
      assert.is_true(ready, "socat did not join")
      r:run("h", [[
        local port = tonumber(...)
        local s = assert(pktinfo.udp("inet"))
        assert(s:setoption("multicast-if", "eth2"))
        assert(s:sendto("hello socat", "224.1.2.7", port))
        return {}
      ]], p)
      assert.equal("hello socat", s:rest())
    end)
  end)
end)
