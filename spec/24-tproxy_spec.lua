-- Transparent proxying for real (README, "Gateways"): a gateway namespace
-- with an nftables TPROXY rule (udp dport 53 to local port 5300, mark 1,
-- fwmark 1 looked up in a table of `local` routes), a client routed
-- through it, and dig, which drops any answer that does not come from the
-- address and port it asked. The answers come from addresses that exist
-- nowhere (203.0.113.99, 2001:db8:99::99), or through examples/tproxy.lua
-- as shipped from an upstream behind the gateway. Pending without root.
local gate = require "helpers.gate"
local gw = require "helpers.gw_rig"

-- G: a DNS responder on a transparent listener with recvorigdst, which
-- answers each query from a socket bound to the query's original
-- destination (transparent: that address is not the gateway's), or with
-- "port5300" from the listener itself with the original address as
-- source but its own port, which dig must refuse. Returns what it saw.
local RESPONDER = [[
  local how, n = ...
  local dns = require "helpers.gw_dns"
  local l = assert(pktinfo.udp("inet6", { transparent = true, recvorigdst = true, pktinfo = true }))
  assert(l:bind("*", 5300))
  l:settimeout(10)
  ready()
  local seen = {}
  for _ = 1, tonumber(n) do
    local q, info = l:recv()
    if not q then error("recv: " .. tostring(info)) end
    seen[#seen + 1] = { from = info.from, port = info.port, family = info.family, addr = info.addr,
                        orig_dst = info.orig_dst, orig_port = info.orig_port }
    local a = assert(dns.txt_answer(q, ("orig %s %d from %s"):format(info.orig_dst, info.orig_port, info.from)))
    if how == "port5300" then
      assert(l:sendto(a, info.from, info.port, { addr = info.orig_dst }))
    else
      local plain = pktinfo.udp(info.family)
      local _, _, errname = plain:bind(info.orig_dst, info.orig_port)
      seen[#seen].plain_bind = errname
      plain:close()
      local r = assert(pktinfo.udp(info.family, { transparent = true }))
      assert(r:bind(info.orig_dst, info.orig_port))
      assert(r:sendto(a, info.from, info.port))
      r:close()
    end
  end
  return seen
]]

-- U: the upstream, a DNS responder on 203.0.113.53 and 2001:db8:53::53
-- port 53 that answers from the address asked (reply) with who asked it.
local UPSTREAM = [[
  local n = ...
  local dns = require "helpers.gw_dns"
  local s = assert(pktinfo.udp("inet6", { pktinfo = true }))
  assert(s:bind("*", 53))
  s:settimeout(10)
  ready()
  for _ = 1, tonumber(n) do
    local q, info = s:recv()
    if not q then break end
    s:reply(assert(dns.txt_answer(q, "upstream saw " .. info.from)), info)
  end
  return {}
]]

describe("TPROXY with nftables, checked with dig (network namespaces)", function()
  local r

  local function need()
    local why = gate.netns() or gate.command("nft") or gate.command("dig")
    if why then pending(why) return false end
    if not r then
      local ok, made = pcall(gw.tproxy)
      if not ok and tostring(made):find(gw.NO_TPROXY, 1, true) then pending(tostring(made)) return false end
      assert(ok, made)
      r = made
    end
    return true
  end

  teardown(function()
    if r then r:close() end
  end)

  --- dig's whole output in C (dig exits 9 when nothing acceptable came).
  local function dig(server, name)
    return r:exec("c", ("dig @%s +tries=1 +time=3 %s TXT || true"):format(server, name))
  end

  for _, case in ipairs {
    { "IPv4", "203.0.113.99", "192.0.2.2", "inet" },
    { "IPv6", "2001:db8:99::99", "2001:db8:1::2", "inet6" },
  } do
    local version, nowhere, client, family = case[1], case[2], case[3], case[4]

    it(version .. ": the answer comes from an address that exists nowhere, port 53; orig_dst and orig_port say it", function()
      if not need() then return end
      local g = r:spawn("g", RESPONDER, "transparent", 1)
      g:wait_ready()
      local out = dig(nowhere, "a.test")
      local seen = g:finish()[1]
      assert.matches("status: NOERROR", out)
      assert.matches(('"orig %s 53 from %s"'):format(nowhere, client):gsub("%p", "%%%0"), out)
      assert.matches(("SERVER: %s#53"):format(nowhere):gsub("%p", "%%%0"), out)
      assert.same({ from = client, family = family, addr = nowhere, orig_dst = nowhere, orig_port = 53,
                    plain_bind = "EADDRNOTAVAIL" },
        { from = seen.from, family = seen.family, addr = seen.addr, orig_dst = seen.orig_dst,
          orig_port = seen.orig_port, plain_bind = seen.plain_bind })
      assert.is_true(seen.port > 0 and seen.port ~= 53)
    end)

    it(version .. " (control): the same answer from the listener's own port 5300 is refused by dig", function()
      if not need() then return end
      local g = r:spawn("g", RESPONDER, "port5300", 1)
      g:wait_ready()
      local out = dig(nowhere, "b.test")
      g:finish()                 -- it sent the answer (an assert there)
      -- dig's socket is connected to nowhere:53: the kernel drops the answer
      assert.matches("no servers could be reached", out)
      assert.is_nil(out:find("status: NOERROR", 1, true))
    end)
  end

  it("examples/tproxy.lua as shipped relays IPv4 and IPv6 queries to the upstream and answers as it", function()
    if not need() then return end
    local u = r:spawn("u", UPSTREAM, 3)
    u:wait_ready()
    local proxy = r:spawn_cmd("g", gw.lua() .. " examples/tproxy.lua 5300 30")
    proxy:wait_for("relaying UDP redirected to port 5300")
    local out4 = dig("203.0.113.53", "c.test")
    local out6 = dig("2001:db8:53::53", "d.test")
    local again = dig("203.0.113.53", "e.test")
    -- the upstream saw the gateway's own address: the query went through the proxy
    assert.matches('"upstream saw 198%.51%.100%.1"', out4)
    assert.matches("SERVER: 203%.0%.113%.53#53", out4)
    assert.matches('"upstream saw 2001:db8:2::1"', out6)
    assert.matches("SERVER: 2001:db8:53::53#53", out6)
    assert.matches('"upstream saw 198%.51%.100%.1"', again)
    proxy:wait_for("192%.0%.2%.2 port %d+ %-> 203%.0%.113%.53 port 53")
    u:finish()
  end)
end)
