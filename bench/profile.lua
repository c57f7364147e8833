--- One receive or send variant of bench/bench.lua, N datagrams, for
-- `valgrind --tool=callgrind` (`make bench-callgrind`): instruction counts
-- are stable on a noisy machine where nanoseconds are not.
--
-- Usage: lua bench/profile.lua MODE [N]
-- MODE: luasocket, recv, into, many, manyinto, sendto, reply, sendmany,
-- and the bulk flows of 1,200-byte datagrams: gso, nogso (sendmany of 64
-- items), gro, nogro (recvmany(64) fed by a gso sender)
local pktinfo = require "pktinfo"

local mode, N = arg[1], tonumber(arg[2] or 20000)

--- The bulk-flow modes: N datagrams of one flow, 64 per call.
local function bulk()
  local size, batch = 1200, 64
  local rx = assert(pktinfo.udp("inet", { pktinfo = true, rcvbuf = 4 * 1024 * 1024 }))
  assert(rx:bind("127.0.0.1", 0)); rx:settimeout(1)
  local rxg = assert(pktinfo.udp("inet", { pktinfo = true, rcvbuf = 4 * 1024 * 1024 }))
  assert(rxg:bind("127.0.0.1", 0)); rxg:settimeout(1); assert(rxg:setoption("gro", true))
  local tx = assert(pktinfo.udp("inet"))
  local to = mode == "nogro" and rx or rxg
  local list, data = {}, ("x"):rep(size)
  for i = 1, batch do list[i] = { data = data, to = "127.0.0.1", port = select(2, to:getsockname()) } end
  assert(tx:setoption("gso", mode ~= "nogso"))
  for _ = 1, math.floor(N / 640) do      -- 640 datagrams at a time fit any receive buffer
    for _ = 1, 10 do assert(tx:sendmany(list) == batch) end
    local got = 0
    while got < 640 do got = got + #assert(to:recvmany(batch)) end
  end
end
if mode == "gso" or mode == "nogso" or mode == "gro" or mode == "nogro" then
  bulk()
  return
end
local BURST = 1000
local PAYLOAD = string.rep("x", 64)

local s = assert(pktinfo.udp("inet"))
assert(s:bind("127.0.0.1", 0))
s:setoption("rcvbuf", 8 * 1024 * 1024)
s:settimeout(1)
local _, port = s:getsockname()
local tx = assert(pktinfo.udp("inet", { pktinfo = true }))   -- its info tables have packet info
assert(tx:bind("127.0.0.1", 0))
tx:setoption("rcvbuf", 8 * 1024 * 1024)
tx:settimeout(1)
local _, txport = tx:getsockname()

local u
if mode == "luasocket" then
  local socket = require "socket"
  u = assert(socket.udp())
  assert(u:setsockname("127.0.0.1", 0))
  assert(pktinfo.wrap(u)):setoption("rcvbuf", 8 * 1024 * 1024)
  u:settimeout(1)
  port = tonumber((select(2, u:getsockname())))
end

local burst = {}
for i = 1, BURST do burst[i] = { data = PAYLOAD, to = "127.0.0.1", port = port } end

--- Receives n datagrams from sock with recvmany (the untimed side).
local function drain(sock, n)
  local got = 0
  while got < n do got = got + #assert(sock:recvmany(32, 128)) end
end

-- A genuine info table to answer: a request from s to tx.
assert(s:sendto("request", "127.0.0.1", txport))
local _, info = assert(tx:recv())
local replies = {}
for i = 1, 32 do
  local item = {}
  for k, v in pairs(info) do item[k] = v end
  item.data = PAYLOAD
  replies[i] = item
end

local into, src = {}, { addr = "127.0.0.1" }
s:setpktinfo(true)
for _ = 1, math.floor(N / BURST) do
  if mode == "sendto" or mode == "reply" or mode == "sendmany" then
    if mode == "sendto" then
      for _ = 1, BURST do tx:sendto(PAYLOAD, "127.0.0.1", port, src) end
    elseif mode == "reply" then
      for _ = 1, BURST do tx:reply(PAYLOAD, info) end
    else
      for _ = 1, BURST / 32 do tx:sendmany(replies) end
    end
    drain(s, mode == "sendmany" and math.floor(BURST / 32) * 32 or BURST)
  else
    assert(tx:sendmany(burst) == BURST)
    if mode == "luasocket" then
      for _ = 1, BURST do assert(u:receivefrom()) end
    elseif mode == "recv" then
      for _ = 1, BURST do assert(s:recv()) end
    elseif mode == "into" then
      for _ = 1, BURST do assert(s:recv(nil, into)) end
    elseif mode == "many" then
      local n = 0
      while n < BURST do n = n + #assert(s:recvmany(32)) end
    elseif mode == "manyinto" then
      local n = 0
      while n < BURST do n = n + #assert(s:recvmany(32, nil, into)) end
    else
      error("unknown mode " .. tostring(mode))
    end
  end
end
