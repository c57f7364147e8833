-- The multi-homed rig (spec/helpers/rig.lua): a server with two links and a
-- service address on its loopback, a client routed to all of them. Needs
-- root and network namespaces; pending with the reason otherwise.
local gate = require "helpers.gate"
local rig = require "helpers.rig"
local net = require "helpers.net"

local LUA = net.lua()

describe("multi-homed server (network namespaces)", function()
  local r

  setup(function()
    if not gate.netns() then r = rig.up() end
  end)

  teardown(function()
    rig.down(r)
  end)

  local function need_rig()
    local why = gate.netns()
    if why then pending(why) end
  end

  -- Starts whoami in the server namespace for n requests; returns its port.
  local next_port = 5400
  local function whoami(n, bind)
    next_port = next_port + 1
    rig.spawn(r.server, LUA, "examples/whoami.lua", ("%d %s %d"):format(next_port, bind or "'*'", n),
      "listening", 20)
    return next_port
  end

  -- Asks from the client namespace; returns the reply's source and text.
  local function ask(dst, port, ifname)
    local out = rig.run(r.client, ("%s spec/helpers/client.lua %s %d %s"):format(LUA, dst, port, ifname or ""))
    return out:match("FROM=(%S+)"), out:match("DATA=([^\n]*)") or out
  end

  local cases = {
    { "the service address on the server's loopback, over link A", "192.0.2.1", "sa" },
    { "link B's own address, over link B", "203.0.113.1", "sb" },
    { "link A's address, arriving over link B", "198.51.100.1", "sb" },
    { "IPv6 service address, over link A", "2001:db8:1::1", "sa" },
    { "IPv6 address of link B, over link B", "2001:db8:b::1", "sb" },
    { "IPv6 address of link A, arriving over link B", "2001:db8:a::1", "sb" },
  }
  for _, case in ipairs(cases) do
    local what, dst, link = case[1], case[2], case[3]
    it("reports and answers from " .. what, function()
      need_rig()
      local port = whoami(1)
      local from, text = ask(dst, port)
      assert.equal(dst, from, text)
      assert.matches("you reached " .. dst:gsub("%p", "%%%0") .. " on " .. link
        .. " %(ifindex " .. r.ifindex[link] .. "%)", text)
    end)
  end

  it("answers a subnet broadcast from the receiving link's own address", function()
    need_rig()
    local port = whoami(1)
    local from, text = ask("198.51.100.255", port)
    assert.equal("198.51.100.1", from, text)
    assert.matches("you reached 198.51.100.255 on sa %(ifindex " .. r.ifindex.sa .. "%); my address there is 198.51.100.1", text)
  end)

  it("answers a limited broadcast (255.255.255.255) on the link it came in on", function()
    need_rig()
    local port = whoami(1)
    local from, text = ask("255.255.255.255", port, "cb")   -- sent out of link B
    assert.equal("203.0.113.1", from, text)
    assert.matches("you reached 255.255.255.255 on sb %(ifindex " .. r.ifindex.sb .. "%)", text)
  end)

  it("answers an IPv6 link-local peer on the interface it came from", function()
    need_rig()
    assert.is_string(r.ll_sa, "server link-local address")
    local port = whoami(1)
    local from, text = ask(r.ll_sa .. "%ca", port)
    assert.equal(r.ll_sa .. "%ca", from, text)
    assert.matches("you reached " .. r.ll_sa:gsub("%p", "%%%0") .. "%%sa on sa", text)
  end)

  it("satisfies dig, which rejects replies from unexpected sources", function()
    need_rig()
    local why = gate.command("dig"); if why then pending(why) end
    for _, dst in ipairs { "192.0.2.1", "198.51.100.1" } do
      next_port = next_port + 1
      rig.spawn(r.server, LUA, "spec/helpers/dns_responder.lua", next_port .. " 1", "ready", 20)
      local out = rig.run(r.client, ("dig @%s -p %d +tries=1 +time=2 +short example.test A"):format(dst, next_port))
      assert.equal("192.0.2.53", out:match("^%s*(.-)%s*$"), out)
    end
  end)

  it("(control) shows dig rejecting a server that ignores packet info", function()
    need_rig()
    local why = gate.command("dig"); if why then pending(why) end
    next_port = next_port + 1
    rig.spawn(r.server, LUA, "spec/helpers/dns_responder.lua", next_port .. " 1 plain", "ready", 20)
    local out = rig.run(r.client, ("dig @192.0.2.1 -p %d +tries=1 +time=2 example.test A"):format(next_port))
    -- dig's connected socket drops the wrong-source answer (older dig said
    -- "reply from unexpected source"): either way, no answer is accepted
    assert.not_matches("192.0.2.53", out, 1, true)
    assert.is_truthy(out:find("unexpected source", 1, true) or out:find("timed out", 1, true)
      or out:find("no servers could be reached", 1, true), out)
  end)
end)
