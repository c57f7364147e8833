-- Reply rules on the link types where routing alone answers wrongly, for
-- real in network namespaces (spec/helpers/rig.lua), and the interface
-- listing. README, "Choosing the source":
-- * link-local peers (IPv4 169.254.0.0/16 too) are answered on the
--   interface they came from: on a host with two 169.254/16 links a
--   routed reply leaves by the wrong one and is lost;
-- * a broadcast is answered out of the link it arrived on, from that
--   link's own address, even where the kernel's spec_dst is another link's
--   (an asymmetric route back to the sender);
-- * a unicast reply is routed normally (no pinning where none is needed);
-- * an interface that no longer exists gives nil, msg, errname.
-- The namespace tests need root; pending with the reason otherwise.
local pktinfo = require "pktinfo"
local gate = require "helpers.gate"
local rig = require "helpers.rig"
local net = require "helpers.net"

local LUA = net.lua()

local function need_rig()
  local why = gate.netns()
  if why then pending(why) end
end

-- Starts whoami in r.server for one request, its socket bound to bind
-- ("'*'": dual-stack, "0.0.0.0": IPv4 only); returns its port.
local next_port = 5600
local function whoami(r, bind)
  next_port = next_port + 1
  rig.spawn(r.server, LUA, "examples/whoami.lua", ("%d %s 1"):format(next_port, bind), "listening", 20)
  return next_port
end

-- Asks from namespace ns: FROM, VIA (the client's link it arrived on) and
-- the answer's text (or the client's error output).
local function ask(ns, dst, port, ifname, bind)
  local out = rig.run(ns, ("%s spec/helpers/client.lua %s %d %s %s"):format(
    LUA, dst, port, ifname or "-", bind or ""))
  return out:match("FROM=(%S+)"), out:match("VIA=(%S+)"), out:match("DATA=([^\n]*)") or out
end

describe("two links that are both 169.254.0.0/16", function()
  local r

  setup(function()
    if not gate.netns() then r = rig.linklocal() end
  end)

  teardown(function()
    rig.down(r)
  end)

  it("(control) loses a routed datagram to link B's peer, delivers one sent out of lb", function()
    need_rig()
    for _, case in ipairs { { "nil", "TIMEOUT" }, { "{ ifindex = " .. r.ifindex.lb .. " }", "FROM=169.254.2.1" } } do
      next_port = next_port + 1
      local log = rig.spawn(r.client_b, LUA, "spec/helpers/listen.lua", next_port .. " 2", "READY", 10)
      rig.run(r.server, ("%s -e %q"):format(LUA, ("local s = require('pktinfo').udp() "
        .. "assert(s:sendto('x', '169.254.2.2', %d, %s))"):format(next_port, case[1])))
      local out
      for _ = 1, 60 do
        local f = io.open(log); out = f:read("*a"); f:close()
        if out:find("TIMEOUT", 1, true) or out:find("DATA=", 1, true) then break end
        os.execute("sleep 0.1")
      end
      os.remove(log)
      assert.matches(case[2], out, 1, true)
    end
  end)

  for _, bind in ipairs { "'*'", "0.0.0.0" } do
    local kind = bind == "'*'" and "dual-stack" or "IPv4"
    it("answers client A on link A (" .. kind .. " socket)", function()
      need_rig()
      local from, via, text = ask(r.client_a, "169.254.1.1", whoami(r, bind))
      assert.equal("169.254.1.1", from, text)
      assert.equal("ca", via, text)
      assert.matches("you reached 169.254.1.1 on la", text, 1, true)
    end)

    it("answers client B out of link B, where routing would send it out of link A (" .. kind .. " socket)", function()
      need_rig()
      local from, via, text = ask(r.client_b, "169.254.2.1", whoami(r, bind))
      assert.equal("169.254.2.1", from, text)
      assert.equal("cb", via, text)
      assert.matches("you reached 169.254.2.1 on lb %(ifindex " .. r.ifindex.lb .. "%)", text)
    end)

    it("answers client B's broadcast from lb's own address (" .. kind .. " socket)", function()
      need_rig()
      local from, via, text = ask(r.client_b, "169.254.255.255", whoami(r, bind), "cb")
      assert.equal("169.254.2.1", from, text)
      assert.equal("cb", via, text)
      assert.matches("you reached 169.254.255.255 on lb", text, 1, true)
    end)
  end

  it("lists both links with their addresses in pktinfo.interfaces()", function()
    need_rig()
    local out = rig.run(r.server, ("%s -e %q"):format(LUA, [[
      for _, i in ipairs(assert(require('pktinfo').interfaces())) do
        print(i.index, i.name, i.up, table.concat(i.addrs, ' '))
      end]]))
    local la, lb = out:match("[^\n]*\tla\t[^\n]*"), out:match("[^\n]*\tlb\t[^\n]*")
    assert.is_truthy(la and lb, out)
    assert.matches("^" .. r.ifindex.la .. "\tla\ttrue\t169%.254%.1%.1/16 fe80::[%x:]+%%la/64$", la)
    assert.matches("^" .. r.ifindex.lb .. "\tlb\ttrue\t169%.254%.2%.1/16 fe80::[%x:]+%%lb/64$", lb)
    assert.matches("\tlo\ttrue\t127%.0%.0%.1/8 ::1/128", out)
  end)
end)

describe("a broadcast arriving on link A, with the route back to its sender over link B", function()
  local r

  setup(function()
    if not gate.netns() then r = rig.asymmetric() end
  end)

  teardown(function()
    rig.down(r)
  end)

  local cases = {
    { "a subnet broadcast", "198.51.100.255" },
    { "a limited broadcast", "255.255.255.255" },
  }
  for _, case in ipairs(cases) do
    local what, dst = case[1], case[2]
    it("answers " .. what .. " from link A's own address, out of link A (the kernel's spec_dst is link B's)", function()
      need_rig()
      -- the client is bound to its link-A address; VIA is the client link
      -- the answer came in on
      local from, via, text = ask(r.client, dst, whoami(r, "'*'"), "ca", "198.51.100.2")
      -- the rig's point: the kernel proposes link B's address
      assert.matches("; my address there is 203.0.113.1", text, 1, true)
      assert.matches("you reached " .. dst .. " on sa", text, 1, true)
      assert.equal("198.51.100.1", from, text)
      assert.equal("ca", via, text)
    end)
  end

  it("routes a unicast reply normally (over link B), from the address asked", function()
    need_rig()
    local from, via, text = ask(r.client, "198.51.100.1", whoami(r, "'*'"), "ca", "198.51.100.2")
    assert.matches("you reached 198.51.100.1 on sa", text, 1, true)
    assert.equal("198.51.100.1", from, text)
    assert.equal("cb", via, text)   -- not pinned to sa: the route decides
  end)
end)

describe("replies on an interface that no longer exists", function()
  -- an index no interface has; the rules need it (broadcast, link-local
  -- peer), so the answer is an error, never a raise
  local GONE = 999999

  local cases = {
    { "a broadcast request", { from = "127.0.0.1", port = 9, family = "inet",
      addr = "255.255.255.255", ifindex = GONE } },
    { "a subnet broadcast (spec_dst differs)", { from = "127.0.0.1", port = 9, family = "inet",
      addr = "127.255.255.255", spec_dst = "127.0.0.1", ifindex = GONE } },
    -- (a local address as source: a foreign one is refused first, ENETUNREACH)
    { "an IPv4 link-local peer", { from = "169.254.7.7", port = 9, family = "inet",
      addr = "127.0.0.1", spec_dst = "127.0.0.1", ifindex = GONE } },
  }
  for _, case in ipairs(cases) do
    it("gives nil, msg, \"ENODEV\" for " .. case[1], function()
      local s = assert(pktinfo.udp())
      local ok, msg, name = s:reply("x", case[2])
      s:close()
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.equal("ENODEV", name)
    end)
  end
end)

describe("pktinfo.interfaces()", function()
  it("lists loopback as ifname/ifindex know it, with its addresses and prefixes", function()
    local list, err = pktinfo.interfaces()
    assert.is_table(list, err)
    local lo
    for i, f in ipairs(list) do
      assert.is_number(f.index); assert.is_string(f.name)
      assert.is_boolean(f.up); assert.is_table(f.addrs)
      assert.equal(f.name, pktinfo.ifname(f.index))
      assert.equal(f.index, pktinfo.ifindex(f.name))
      if i > 1 then assert.is_true(f.index > list[i - 1].index, "ascending index") end
      if f.name == "lo" then lo = f end
    end
    assert.is_table(lo, "lo listed")
    assert.is_true(lo.up)
    assert.equal("127.0.0.1/8", lo.addrs[1])
  end)

  it("lists an interface without addresses, a down one, a labelled address and IPv6 scopes", function()
    local why = gate.netns(); if why then pending(why) end
    local r = rig.asymmetric()
    finally(function() rig.down(r) end)
    local S = r.server
    assert(os.execute(("ip -n %s link add t0 type veth peer name t1 >/dev/null 2>&1"):format(S)))
    assert(os.execute(("ip -n %s addr add 198.51.100.9/24 dev sa label sa:9 >/dev/null 2>&1"):format(S)))
    assert(os.execute(("ip -n %s -6 addr add fe80::99/64 dev sb nodad >/dev/null 2>&1"):format(S)))
    local out = rig.run(S, ("%s -e %q"):format(LUA, [[
      for _, i in ipairs(assert(require('pktinfo').interfaces())) do
        print(i.name .. '|' .. tostring(i.up) .. '|' .. table.concat(i.addrs, ' '))
      end]]))
    assert.matches("\nt0|false|\n", "\n" .. out, 1, true)
    assert.matches("\nt1|false|\n", "\n" .. out, 1, true)
    assert.not_matches("sa:9", out, 1, true)
    assert.matches("\nsa|true|198.51.100.1/24 198.51.100.9/24", "\n" .. out, 1, true)
    assert.matches("fe80::99%sb/64", out, 1, true)
  end)
end)
