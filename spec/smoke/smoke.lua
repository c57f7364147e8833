-- A self-contained check of the module with no busted and no other C
-- module, for interpreters where busted's C dependencies are not built
-- (make test-musl runs it under a Lua built with musl). Loopback only.
-- Every info field, the reply source, recvmany, sendmany, timeouts, a
-- closed socket. One line per check, then "N passed, N failed, N skipped";
-- the exit status is non-zero if any check failed.
local pktinfo = require "pktinfo"

local passed, failed, skipped = 0, 0, 0

local function check(name, ok, detail)
  if ok then
    passed = passed + 1
    print("ok    " .. name)
  else
    failed = failed + 1
    print("FAIL  " .. name .. (detail and (": " .. tostring(detail)) or ""))
  end
  return ok
end

local function skip(name, why)
  skipped = skipped + 1
  print("skip  " .. name .. ": " .. why)
end

-- Runs one group of checks; an error inside counts as a failure.
local function group(name, fn)
  local ok, err = pcall(fn)
  if not ok then check(name .. " (raised)", false, err) end
end

-- A server on the wildcard with packet info, and its port.
local function server(family, opts)
  opts = opts or {}
  opts.pktinfo = true
  opts.timeout = opts.timeout or 2
  local s = assert(pktinfo.udp(family, opts))
  assert(s:bind("*", 0))
  local _, port = s:getsockname()
  return s, port
end

local lo = pktinfo.ifindex("lo")

group("module", function()
  check("_VERSION is a version", type(pktinfo._VERSION) == "string"
    and pktinfo._VERSION:match("^%d+%.%d+"), pktinfo._VERSION)
  check("IP_PKTINFO is Linux's 8", pktinfo.IP_PKTINFO == 8, pktinfo.IP_PKTINFO)
  check("IPV6_PKTINFO is Linux's 50", pktinfo.IPV6_PKTINFO == 50, pktinfo.IPV6_PKTINFO)
  check("ifindex('lo') and back", lo and pktinfo.ifname(lo) == "lo", lo)
  local ok, err = pcall(pktinfo.udp, "carrier-pigeon")
  check("an unknown family raises", not ok and tostring(err):find("bad argument"), err)
end)

group("IPv4 info fields and reply", function()
  local s, port = server("inet")
  local c = assert(pktinfo.udp("inet", { timeout = 2 }))
  assert(c:bind("127.0.0.1", 0))
  local _, cport = c:getsockname()
  check("getpktinfo", s:getpktinfo() == true)
  assert(c:sendto("hello", "127.0.0.2", port))
  local data, info = s:recv()
  check("data", data == "hello", data)
  check("from", info and info.from == "127.0.0.1", info and info.from)
  check("port", info and info.port == cport, info and info.port)
  check("family", info and info.family == "inet", info and info.family)
  check("addr: the address sent to", info and info.addr == "127.0.0.2", info and info.addr)
  check("spec_dst", info and info.spec_dst == "127.0.0.2", info and info.spec_dst)
  check("ifindex: lo", info and info.ifindex == lo, info and info.ifindex)
  check("truncated false", info and info.truncated == false, info and info.truncated)
  check("no ttl/tos/time/dropped unasked", info and info.ttl == nil and info.tos == nil
    and info.time == nil and info.dropped == nil)
  assert(s:reply("back", info))
  local r, rinfo = c:recv()
  check("reply arrives", r == "back", r)
  check("reply comes from the address asked", rinfo and rinfo.from == "127.0.0.2",
    rinfo and rinfo.from)
  check("reply comes from the server's port", rinfo and rinfo.port == port, rinfo and rinfo.port)
  assert(c:sendto("0123456789", "127.0.0.1", port))
  data, info = s:recv(4)
  check("recv(4) of 10 bytes: data cut", data == "0123", data)
  check("recv(4) of 10 bytes: truncated", info and info.truncated == true)
  s:close()
  c:close()
end)

group("TTL, TOS, ECN, receive time, drops", function()
  local s, port = server("inet")
  for _, o in ipairs { "recvttl", "recvtos", "timestamp", "rxq_ovfl" } do
    local ok, err = s:setoption(o, true)
    check("setoption " .. o, ok == true, err)
    check("getoption " .. o, s:getoption(o) == true)
  end
  local c = assert(pktinfo.udp("inet"))
  local before = os.time()
  assert(c:sendto("marked", "127.0.0.3", port, { ttl = 7, tos = 0xb9 }))
  local _, info = s:recv()
  local after = os.time()
  check("ttl as sent", info and info.ttl == 7, info and info.ttl)
  check("tos as sent", info and info.tos == 0xb9, info and info.tos)
  check("ecn: the two low bits", info and info.ecn == 1, info and info.ecn)
  check("time within the wall clock around it", info and info.time
    and info.time >= before - 1 and info.time <= after + 1, info and info.time)
  check("dropped 0 before any drop", info and info.dropped == 0, info and info.dropped)
  s:close()
  c:close()
end)

group("IPv6 and dual-stack", function()
  local c6 = pktinfo.udp("inet6", { timeout = 2 })
  if not c6 or not c6:bind("::1", 0) then
    skip("IPv6 loopback", "no ::1 on this host")
    return
  end
  local s, port = server("inet6")
  assert(c6:sendto("six", "::1", port))
  local data, info = s:recv()
  check("IPv6 data", data == "six", data)
  check("IPv6 family", info and info.family == "inet6", info and info.family)
  check("IPv6 addr", info and info.addr == "::1", info and info.addr)
  check("IPv6 has no spec_dst", info and info.spec_dst == nil, info and info.spec_dst)
  check("IPv6 ifindex: lo", info and info.ifindex == lo, info and info.ifindex)
  assert(s:reply("six back", info))
  local _, rinfo = c6:recv()
  check("IPv6 reply from ::1", rinfo and rinfo.from == "::1", rinfo and rinfo.from)
  local c4 = assert(pktinfo.udp("inet"))
  assert(c4:sendto("four", "127.0.0.4", port))
  data, info = s:recv()
  check("dual-stack: IPv4 says inet", info and info.family == "inet", info and info.family)
  check("dual-stack: plain IPv4 text", info and info.addr == "127.0.0.4" and
    info.from == "127.0.0.1", info and (info.addr .. " from " .. info.from))
  check("dual-stack: IPv4 spec_dst", info and info.spec_dst == "127.0.0.4", info and info.spec_dst)
  s:close()
  c6:close()
  c4:close()
end)

group("recvmany and sendmany", function()
  local s, port = server("inet")
  local c = assert(pktinfo.udp("inet", { timeout = 2 }))
  assert(c:bind("127.0.0.1", 0))
  local _, cport = c:getsockname()
  for i = 1, 5 do assert(c:sendto("m" .. i, "127.0.0." .. (10 + i), port)) end
  local list = s:recvmany(16)
  check("recvmany takes what is queued", list and #list == 5, list and #list)
  local good = list and #list == 5
  for i = 1, (list and #list or 0) do
    local m = list[i]
    good = good and m.data == "m" .. i and m.addr == "127.0.0." .. (10 + i)
      and m.from == "127.0.0.1" and m.port == cport and m.ifindex == lo
  end
  check("recvmany: data, addr, from, port, ifindex of each", good)
  for _, m in ipairs(list or {}) do m.data = "re:" .. m.data end
  local n, err = s:sendmany(list or {})
  check("sendmany answers them all", n == 5, err)
  local froms = {}
  for _ = 1, 5 do
    local d, info = c:recv()
    if d then froms[d] = info.from end
  end
  local all = true
  for i = 1, 5 do all = all and froms["re:m" .. i] == "127.0.0." .. (10 + i) end
  check("each answer from the address its request was sent to", all)
  s:close()
  c:close()
end)

group("drops counted", function()
  local s, port = server("inet", { rcvbuf = 1024, timeout = 0 })
  assert(s:setoption("rxq_ovfl", true))
  local c = assert(pktinfo.udp("inet"))
  local sent = 300
  for _ = 1, sent do assert(c:sendto(("x"):rep(200), "127.0.0.1", port)) end
  local got, dropped = 0, nil
  -- The kernel reports the count with the next datagram it queues: after
  -- draining the burst, one more (counted as sent) carries the total.
  for round = 1, 2 do
    while true do
      local list = s:recvmany(64)
      if not list then break end
      got = got + #list
      dropped = list[#list].dropped
    end
    if round == 1 then assert(c:sendto("last", "127.0.0.1", port)); sent = sent + 1 end
  end
  check("a burst past the receive buffer drops some", dropped and dropped > 0, dropped)
  check("received + dropped = sent", dropped and got + dropped == sent,
    ("%d + %s"):format(got, tostring(dropped)))
  s:close()
  c:close()
end)

group("timeouts", function()
  local s, port = server("inet", { timeout = 0 })
  local data, err, name = s:recv()
  check("timeout 0: recv returns at once", data == nil and err == "timeout"
    and name == "ETIMEDOUT", tostring(err) .. " " .. tostring(name))
  data, err = s:recvmany(8)
  check("timeout 0: recvmany returns at once", data == nil and err == "timeout", err)
  -- How long a 0.3 s timeout waited, by the kernel's own receive times of
  -- a datagram before and one after (no clock of Lua's has the resolution).
  assert(s:setoption("timestamp", true))
  local c = assert(pktinfo.udp("inet"))
  assert(c:sendto("t0", "127.0.0.1", port))
  s:settimeout(2)
  local _, i0 = s:recv()
  s:settimeout(0.3)
  data, err = s:recv()
  check("timeout 0.3: nil, 'timeout'", data == nil and err == "timeout", err)
  assert(c:sendto("t1", "127.0.0.1", port))
  s:settimeout(2)
  local _, i1 = s:recv()
  local waited = i0 and i1 and i1.time - i0.time
  check("timeout 0.3 waited at least 0.3 s", waited and waited >= 0.29, waited)
  s:close()
  c:close()
end)

group("closed sockets", function()
  local s = assert(pktinfo.udp())
  check("close", s:close() == true)
  check("close again", s:close() == true)
  local data, err, name = s:recv()
  check("recv on a closed socket", data == nil and err == "closed" and name == "EBADF", err)
  check("tostring says closed", tostring(s):find("closed", 1, true) ~= nil, tostring(s))
end)

print(("%d passed, %d failed, %d skipped"):format(passed, failed, skipped))
os.exit(failed == 0 and 0 or 1)
