--- One receive or send variant of bench/bench.lua, N datagrams, for
-- `valgrind --tool=callgrind` (`make bench-callgrind`): instruction counts
-- are stable on a noisy machine where nanoseconds are not.
--
-- Usage: lua bench/profile.lua MODE [N]
-- MODE: luasocket, recv, into, many, manyinto, sendto, reply, sendmany
local pktinfo = require "pktinfo"

local mode, N = arg[1], tonumber(arg[2] or 20000)
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
