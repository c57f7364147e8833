-- Raw sockets get packet info too: an ICMP echo request to a loopback
-- address is received with its destination address and ifindex.
local pktinfo = require "pktinfo"
local gate = require "helpers.gate"
local net = require "helpers.net"

-- The Internet checksum of s (even length).
local function checksum(s)
  local sum = 0
  for i = 1, #s - 1, 2 do sum = sum + s:byte(i) * 256 + s:byte(i + 1) end
  while sum > 0xffff do sum = math.floor(sum / 65536) + sum % 65536 end
  sum = 0xffff - sum
  return string.char(math.floor(sum / 256), sum % 256)
end

-- An ICMP (or ICMPv6) echo request with identifier id.
local function echo_request(type_, id, with_checksum)
  local body = string.char(math.floor(id / 256), id % 256, 0, 1) .. "pktinfo-raw-test"
  local head = string.char(type_, 0)
  local sum = with_checksum and checksum(head .. "\0\0" .. body) or "\0\0"
  return head .. sum .. body
end

-- Receives until an ICMP message of the wanted type and id shows up.
local function receive_echo(s, offset, want_type, id)
  for _ = 1, 20 do
    local data, info = s:recv()
    if not data then return nil, info end
    local t = data:byte(offset + 1)
    local got_id = data:byte(offset + 5) * 256 + data:byte(offset + 6)
    if t == want_type and got_id == id then return data, info end
  end
end

describe("raw sockets", function()
  it("need privilege: without it, a clear EPERM", function()
    local code = "local p = require 'pktinfo' print(p.raw('inet', 'icmp'))"
    local cmd
    if not gate.root() then
      -- as root, drop CAP_NET_RAW for this check (staying root keeps the
      -- build readable wherever the checkout lives)
      local why = gate.command("setpriv"); if why then pending(why) end
      cmd = ("LUA_CPATH=%q LUA_PATH=%q setpriv --bounding-set=-net_raw --inh-caps=-net_raw %s -e %q 2>&1")
        :format(package.cpath, package.path, net.lua(), code)
    else
      cmd = ("%s -e %q 2>&1"):format(net.lua(), code)
    end
    local f = assert(io.popen(cmd))
    local out = f:read("*a"); f:close()
    assert.matches("^nil\tOperation not permitted\tEPERM", out)
  end)

  it("report the destination and interface of an ICMP echo request", function()
    local why = gate.root("raw sockets"); if why then pending(why) end
    local s = assert(pktinfo.raw("inet", "icmp", { pktinfo = true, timeout = 2 }))
    assert.matches("^pktinfo%.raw %(inet", tostring(s))
    assert.is_true(s:getpktinfo())
    local id = math.random(1, 65535)
    assert(s:sendto(echo_request(8, id, true), "127.0.0.7", 0))
    local data, info = receive_echo(s, 20, 8, id)    -- IPv4 raw data has the IP header
    assert.is_string(data, tostring(info))
    assert.equal("127.0.0.7", info.addr)
    assert.equal(pktinfo.ifindex("lo"), info.ifindex)
    assert.equal(0, info.port)
    assert.equal("inet", info.family)
    s:close()
  end)

  it("report the destination and interface of an ICMPv6 echo request", function()
    local why = gate.root("raw sockets") or gate.ipv6(); if why then pending(why) end
    local s = assert(pktinfo.raw("inet6", "icmpv6", { pktinfo = true, timeout = 2 }))
    local id = math.random(1, 65535)
    assert(s:sendto(echo_request(128, id, false), "::1", 0))   -- the kernel sums ICMPv6
    local data, info = receive_echo(s, 0, 128, id)
    assert.is_string(data, tostring(info))
    assert.equal("::1", info.addr)
    assert.equal(pktinfo.ifindex("lo"), info.ifindex)
    assert.equal("inet6", info.family)
    s:close()
  end)
end)
