--- `make bench`: per-datagram cost on loopback with 64-byte datagrams, of
-- plain C loops (bench/cloop.c), LuaSocket's receivefrom, and this
-- module's recv, recv(nil, into), recvmany(32), sendto with a source,
-- reply and sendmany, all from one run.
--
-- Method: each round fills the receive queue with K datagrams (untimed),
-- times only the drain (or only the sends) and checks that all K arrived.
-- Time is process CPU time (os.clock here, CLOCK_PROCESS_CPUTIME_ID in
-- cloop), so other work on a shared machine does not count. PASSES passes
-- of ROUNDS rounds, each pass running every variant in turn; the table
-- shows the median and the minimum over all rounds, in nanoseconds per
-- datagram, and ratios of medians. Ratios are reported, never asserted.
--
-- Bulk-flow rows (segmentation offload): one flow of 1,200-byte datagrams,
-- BENCH_BULK_K per round, BENCH_BULK_ROUNDS rounds per pass, on loopback
-- and across a veth pair between two network namespaces made for the run
-- (as root; pending with the reason otherwise): C sendmmsg and sendmmsg
-- with UDP_SEGMENT, recvmmsg and recvmmsg with UDP_GRO (bench/cbulk.c,
-- BENCH_CBULK), and the module's sendmany(64) with and without gso and
-- recvmany(64) with and without gro (bench/bulk.lua).
--
-- Usage: lua bench/bench.lua CLOOP [K [ROUNDS [PASSES]]]
local pktinfo = require "pktinfo"
local socket = require "socket"

local cloop = assert(arg[1], "usage: bench.lua path/to/cloop [K [ROUNDS [PASSES]]]")
local K = tonumber(arg[2] or os.getenv("BENCH_K") or 2000)
local ROUNDS = tonumber(arg[3] or os.getenv("BENCH_ROUNDS") or 10)
local PASSES = tonumber(arg[4] or os.getenv("BENCH_PASSES") or 5)
local GC = os.getenv("BENCH_GC")           -- "generational" (Lua 5.4) or nil
local BATCH = 32
local PAYLOAD = string.rep("x", 64)
local clock = os.clock

--- A pktinfo socket on 127.0.0.1 with the largest receive buffer allowed.
local function server()
  local s = assert(pktinfo.udp("inet"))
  assert(s:bind("127.0.0.1", 0))
  s:setoption("rcvbuf", 32 * 1024 * 1024)   -- capped by net.core.rmem_max
  s:settimeout(1)                           -- a lost datagram must not hang
  local _, port = s:getsockname()
  return s, port
end

-- The sender of every fill: sendmany of K items per round, in lists of
-- at most 1000 (sendmany takes up to 1024 items).
local filler = assert(pktinfo.udp("inet"))
filler:setoption("sndbuf", 32 * 1024 * 1024)
local fill_lists = {}
local function fill(port)
  local lists = fill_lists[port]
  if not lists then
    lists = {}
    for i = 1, K do
      local l = lists[math.ceil(i / 1000)] or {}
      lists[math.ceil(i / 1000)] = l
      l[#l + 1] = { data = PAYLOAD, to = "127.0.0.1", port = port }
    end
    fill_lists[port] = lists
  end
  for _, list in ipairs(lists) do
    local n, err = filler:sendmany(list)
    assert(n == #list, err)
  end
end

--- Receives what is queued on s without waiting; returns the count.
local function drain(s)
  local n = 0
  s:settimeout(0)
  while true do
    local list = s:recvmany(BATCH, 128)
    if not list then break end
    n = n + #list
  end
  s:settimeout(1)
  return n
end

-- The largest K that fits: fill a probe socket and see what arrives.
do
  local s, port = server()
  fill(port)
  local got = drain(s)
  s:close()
  if got < K then
    io.stderr:write(string.format(
      "bench: only %d of %d datagrams fit the receive buffer; using K = %d\n",
      got, K, math.floor(got * 0.8)))
    K = math.floor(got * 0.8)
    fill_lists = {}
  end
end

K = K - K % BATCH              -- whole batches for sendmany
fill_lists = {}

-- Receive variants: each takes a socket with K datagrams queued, returns
-- the count it received.
local recv_variants = {}

recv_variants["LuaSocket receivefrom()"] = {
  setup = function()
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    local w = assert(pktinfo.wrap(u))       -- borrowed: only to size the buffer
    w:setoption("rcvbuf", 32 * 1024 * 1024)
    u:settimeout(1)
    local _, port = u:getsockname()
    return u, tonumber(port)
  end,
  run = function(u)
    local n = 0
    for _ = 1, K do
      local data = u:receivefrom()
      if not data then break end
      n = n + 1
    end
    return n
  end,
}

recv_variants["recv()"] = {
  pktinfo = true,
  run = function(s)
    local n = 0
    for _ = 1, K do
      local data, info = s:recv()
      if not data or not info.addr then break end
      n = n + 1
    end
    return n
  end,
}

recv_variants["recv(nil, into)"] = {
  pktinfo = true,
  run = function(s)
    local n, into = 0, {}
    for _ = 1, K do
      local data = s:recv(nil, into)
      if not data or not into.addr then break end
      n = n + 1
    end
    return n
  end,
}

recv_variants["recvmany(32)"] = {
  pktinfo = true,
  run = function(s)
    local n = 0
    while n < K do
      local list = s:recvmany(BATCH)
      if not list or not list[#list].addr then break end
      n = n + #list
    end
    return n
  end,
}

recv_variants["recvmany(32, nil, into)"] = {
  pktinfo = true,
  run = function(s)
    local n, into = 0, {}
    while n < K do
      local list = s:recvmany(BATCH, nil, into)
      if not list or not list[#list].addr then break end
      n = n + #list
    end
    return n
  end,
}

-- Send variants: each sends K datagrams to port from socket s, returns the
-- count sent.
local send_variants = {}

send_variants["LuaSocket sendto()"] = {
  luasocket = true,
  run = function(u, port)
    local n = 0
    for _ = 1, K do
      if not u:sendto(PAYLOAD, "127.0.0.1", port) then break end
      n = n + 1
    end
    return n
  end,
}

send_variants["sendto(d, a, p, src)"] = {
  run = function(s, port)
    local n, src = 0, { addr = "127.0.0.1" }
    for _ = 1, K do
      if not s:sendto(PAYLOAD, "127.0.0.1", port, src) then break end
      n = n + 1
    end
    return n
  end,
}

send_variants["reply(d, info)"] = {
  run = function(s, _, info)
    local n = 0
    for _ = 1, K do
      if not s:reply(PAYLOAD, info) then break end
      n = n + 1
    end
    return n
  end,
}

send_variants["sendmany(32 infos)"] = {
  run = function(s, _, _, list)
    local n = 0
    while n < K do
      local sent = s:sendmany(list)
      if sent ~= #list then break end
      n = n + sent
    end
    return n
  end,
}

local samples = {}
local function record(name, ns)
  samples[name] = samples[name] or {}
  table.insert(samples[name], ns)
end

--- One pass of ROUNDS rounds of a C baseline (a separate process).
local function run_c(mode, name)
  local p = assert(io.popen(string.format("%s %s %d %d", cloop, mode, K, ROUNDS)))
  local line = p:read("*l") or ""
  local ok = p:close()
  local count = 0
  for v in line:gmatch("[%d.]+") do record(name, tonumber(v)); count = count + 1 end
  if not ok or count ~= ROUNDS then error("cloop " .. mode .. " failed: " .. line) end
end

--- One pass of a receive variant.
local function run_recv(name, v)
  local s, port
  if v.setup then s, port = v.setup() else s, port = server() end
  if v.pktinfo then assert(s:setpktinfo(true)) end
  for _ = 1, ROUNDS do
    fill(port)
    collectgarbage("step")
    local t0 = clock()
    local got = v.run(s)
    local t1 = clock()
    if got ~= K then error(string.format("%s: %d of %d datagrams arrived", name, got, K)) end
    record(name, (t1 - t0) * 1e9 / K)
  end
  s:close()
end

--- One pass of a send variant: the sender answers a real request, so
-- reply and sendmany use a genuine info table.
local function run_send(name, v)
  local rx, port = server()
  local tx, txport = server()
  assert(tx:setpktinfo(true))
  assert(rx:sendto("request", "127.0.0.1", txport))
  local _, info = assert(tx:recv())
  local list = {}
  for i = 1, BATCH do
    local item = {}
    for key, val in pairs(info) do item[key] = val end
    item.data = PAYLOAD
    list[i] = item
  end
  local sender = tx
  if v.luasocket then sender = assert(socket.udp()) end
  for _ = 1, ROUNDS do
    collectgarbage("step")
    local t0 = clock()
    local sent = v.run(sender, port, info, list)
    local t1 = clock()
    local got = drain(rx)
    if sent ~= K or got ~= K then
      error(string.format("%s: %d sent, %d of %d arrived", name, sent, got, K))
    end
    record(name, (t1 - t0) * 1e9 / K)
  end
  if v.luasocket then sender:close() end
  rx:close(); tx:close()
end

local recv_order = {
  "LuaSocket receivefrom()", "recv()", "recv(nil, into)", "recvmany(32)", "recvmany(32, nil, into)",
}
local send_order = { "LuaSocket sendto()", "sendto(d, a, p, src)", "reply(d, info)", "sendmany(32 infos)" }
local c_rows = {
  { "recvfrom", "C recvfrom loop" },
  { "recvmsg-raw", "C recvmsg+PKTINFO, no text" },
  { "recvmsg", "C recvmsg+PKTINFO+inet_ntop" },
  { "recvmmsg-raw", "C recvmmsg(32)+PKTINFO, no text" },
  { "recvmmsg", "C recvmmsg(32)+PKTINFO+inet_ntop" },
  { "sendmsg", "C sendmsg+PKTINFO" },
}

-- Bulk flows (README, "Offload"): one flow of 1,200-byte datagrams, on
-- loopback and across a veth pair between two network namespaces made
-- for this run (root only), C (bench/cbulk.c) beside the module
-- (bench/bulk.lua, run by `cbulk spawn` with the sockets it opens).
local CBULK = os.getenv("BENCH_CBULK")
local BULK_K = tonumber(os.getenv("BENCH_BULK_K") or 3200)
local BULK_ROUNDS = tonumber(os.getenv("BENCH_BULK_ROUNDS") or math.max(1, math.floor(ROUNDS / 2)))
BULK_K = BULK_K - BULK_K % 64            -- whole sendmany batches
local bulk_c = {
  { "sendmmsg", "C sendmmsg" }, { "gso", "C sendmmsg+UDP_SEGMENT" },
  { "recvmmsg", "C recvmmsg" }, { "gro", "C recvmmsg+UDP_GRO" },
}
local bulk_rows = {                      -- in table order, with the row each is compared with
  { "C sendmmsg" }, { "C sendmmsg+UDP_SEGMENT" },
  { "sendmany(64), no gso", "C sendmmsg" }, { "sendmany(64), gso", "C sendmmsg+UDP_SEGMENT" },
  { "C recvmmsg" }, { "C recvmmsg+UDP_GRO" },
  { "recvmany(64), no gro", "C recvmmsg" }, { "recvmany(64), gro", "C recvmmsg+UDP_GRO" },
  { "recvmany(64, nil, into), gro", "C recvmmsg+UDP_GRO" },
  { "sendto(segment = 1200), gso", "C sendmmsg+UDP_SEGMENT" },
}
local paths = { { name = "lo", tx = "-", rx = "-" }, { name = "veth" } }

--- Runs a shell command quietly; whether it succeeded.
local function sh(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

--- Makes the veth path's two namespaces (198.51.100.1 and .2 on a veth
-- pair), or sets path.why to the reason it cannot be measured.
local function veth_up(path)
  local p = io.popen("id -u")
  local root = p and p:read("*l") == "0"
  if p then p:close() end
  if not CBULK then path.why = "BENCH_CBULK not set (run it through make bench)" return end
  if not root then path.why = "needs root (network namespaces)" return end
  local f = io.open("/proc/self/stat")
  local pid = f and f:read("*l"):match("^(%d+)") or tostring(os.time())
  if f then f:close() end
  math.randomseed(os.time())
  local tag = ("pkb%s%d"):format(pid, math.random(1000, 9999))
  path.tx, path.rx = tag .. "a", tag .. "b"
  local ok = sh("ip netns add " .. path.tx) and sh("ip netns add " .. path.rx)
    and sh(("ip link add v0 netns %s type veth peer name v1 netns %s"):format(path.tx, path.rx))
    and sh(("ip -n %s addr add 198.51.100.1/24 dev v0"):format(path.tx))
    and sh(("ip -n %s addr add 198.51.100.2/24 dev v1"):format(path.rx))
    and sh(("ip -n %s link set v0 up && ip -n %s link set lo up"):format(path.tx, path.tx))
    and sh(("ip -n %s link set v1 up && ip -n %s link set lo up"):format(path.rx, path.rx))
  if not ok then path.why = "could not make network namespaces and a veth pair (ip)" end
end

--- Removes what veth_up made.
local function veth_down(path)
  if path.tx and path.tx ~= "-" then sh("ip netns del " .. path.tx); sh("ip netns del " .. path.rx) end
end

--- Reads lines "NAME<tab>ns<tab>ns..." (or, with name given, "ns ns ...")
-- from a command into the samples of path's rows.
local function run_lines(cmd, path, name)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  local ok = p:close()
  local count = 0
  for line in out:gmatch("[^\n]+") do
    local row, rest = name, line
    if not name then row, rest = line:match("^([^\t]+)\t(.*)$") end
    for v in (rest or ""):gmatch("[%d.]+") do record(path.name .. ": " .. row, tonumber(v)); count = count + 1 end
  end
  if not ok or count == 0 then error("bulk run failed: " .. cmd .. "\n" .. out) end
end

--- One pass of every bulk row of a path.
local function run_bulk(path)
  if path.why then return end
  local args = ("%d %d %s %s"):format(BULK_K, BULK_ROUNDS, path.tx, path.rx)
  for _, c in ipairs(bulk_c) do run_lines(("%s %s %s"):format(CBULK, c[1], args), path, c[2]) end
  run_lines(("%s spawn %s %s -- %s bench/bulk.lua %d %d"):format(CBULK, path.tx, path.rx,
    arg[-1] or "lua5.4", BULK_K, BULK_ROUNDS), path)
end

if GC then collectgarbage(GC) end
io.stderr:write(string.format("bench: K = %d datagrams, %d passes of %d rounds%s\n",
  K, PASSES, ROUNDS, GC and (", " .. GC .. " GC") or ""))
if not CBULK then paths[1].why = "BENCH_CBULK not set (run it through make bench)" end
veth_up(paths[2])
local passed, err = pcall(function()
  for pass = 1, PASSES do
    io.stderr:write(string.format("bench: pass %d of %d\n", pass, PASSES))
    for _, c in ipairs(c_rows) do run_c(c[1], c[2]) end
    for _, name in ipairs(recv_order) do run_recv(name, recv_variants[name]) end
    for _, name in ipairs(send_order) do run_send(name, send_variants[name]) end
    for _, path in ipairs(paths) do run_bulk(path) end
  end
end)
veth_down(paths[2])
if not passed then error(err, 0) end

local function stats(name)
  local t = {}
  for i, v in ipairs(samples[name]) do t[i] = v end
  table.sort(t)
  local n = #t
  local median = n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
  return median, t[1]
end

local med = {}
for name in pairs(samples) do med[name] = stats(name) end
local ref_recv = med["C recvmsg+PKTINFO+inet_ntop"]
local ref_send = med["C sendmsg+PKTINFO"]

local function row(name, ref)
  local m, mn = stats(name)
  print(string.format("| %-34s | %8.0f | %8.0f | %7.2fx |", name, m, mn, m / ref))
end

print(string.format("\n%s, %s%s, K = %d datagrams of 64 bytes, %d rounds",
  pktinfo._VERSION and ("lua-pktinfo " .. pktinfo._VERSION) or "lua-pktinfo",
  _VERSION, GC and (" (" .. GC .. " GC)") or "", K, PASSES * ROUNDS))
print("| receive (ns per datagram, CPU time) | median |      min | vs C recvmsg |")
print("|------------------------------------|---------:|---------:|--------:|")
for _, c in ipairs(c_rows) do
  if c[1] ~= "sendmsg" then row(c[2], ref_recv) end
end
for _, name in ipairs(recv_order) do row(name, ref_recv) end
print("")
print("| send (ns per datagram, CPU time)   |   median |      min | vs C sendmsg |")
print("|------------------------------------|---------:|---------:|--------:|")
row("C sendmsg+PKTINFO", ref_send)
for _, name in ipairs(send_order) do row(name, ref_send) end

-- The speed targets (issue 10), as ratios of medians from this one run.
local ref_mmsg = med["C recvmmsg(32)+PKTINFO+inet_ntop"]
local ls_recv, ls_send = med["LuaSocket receivefrom()"], med["LuaSocket sendto()"]
local targets = {
  { "recv() / LuaSocket receivefrom()", med["recv()"] / ls_recv, 1.05 },
  { "recv(nil, into) / LuaSocket receivefrom()", med["recv(nil, into)"] / ls_recv, 1.00 },
  { "recvmany(32) / C recvmmsg(32)+PKTINFO+inet_ntop", med["recvmany(32)"] / ref_mmsg, 1.20 },
  { "recvmany(32, nil, into) / C recvmmsg(32)+PKTINFO+inet_ntop", med["recvmany(32, nil, into)"] / ref_mmsg, 1.05 },
  { "reply(d, info) / LuaSocket sendto()", med["reply(d, info)"] / ls_send, 1.00 },
}
-- Shown beside them.
local extra = {
  { "sendto(d, a, p, src) / LuaSocket sendto()", med["sendto(d, a, p, src)"] / ls_send },
  { "sendmany(32 infos) / C sendmsg+PKTINFO", med["sendmany(32 infos)"] / ref_send },
}
print("")
print(string.format("| %-34s | %8s | %8s | %-22s |", "bulk, 1,200 B (ns per datagram)", "median", "min", "vs C, same offload"))
print("|------------------------------------|---------:|---------:|------------------------|")
local bulk_measured = 0
for _, path in ipairs(paths) do
  for _, r in ipairs(bulk_rows) do
    local name = path.name .. ": " .. r[1]
    if path.why then
      print(string.format("| %-34s | pending: %s |", name, path.why))
    else
      local m, mn = stats(name)
      local ref = r[2] and med[path.name .. ": " .. r[2]]
      print(string.format("| %-34s | %8.0f | %8.0f | %-22s |", name, m, mn,
        ref and ("%.2fx %s"):format(m / ref, r[2]) or ""))
      bulk_measured = bulk_measured + 1
    end
  end
end

-- The bulk-flow targets (issue 13), per path.
local pending_targets = {}
for _, path in ipairs(paths) do
  local function m(variant) return med[path.name .. ": " .. variant] end
  local list = {
    { "sendmany(64), gso / sendmany(64), no gso", "sendmany(64), gso", "sendmany(64), no gso", 0.50 },
    { "recvmany(64), gro / recvmany(64), no gro", "recvmany(64), gro", "recvmany(64), no gro", 0.60 },
    { "sendmany(64), gso / C sendmmsg+UDP_SEGMENT", "sendmany(64), gso", "C sendmmsg+UDP_SEGMENT", 1.25 },
    { "recvmany(64), gro / C recvmmsg+UDP_GRO", "recvmany(64), gro", "C recvmmsg+UDP_GRO", 1.25 },
  }
  for _, t in ipairs(list) do
    local name = path.name .. ": " .. t[1]
    if path.why then pending_targets[#pending_targets + 1] = name
    else targets[#targets + 1] = { name, m(t[2]) / m(t[3]), t[4] } end
  end
end

print("")
print(string.format("| %-62s | ratio | at most | met |", "target"))
print("|----------------------------------------------------------------|------:|--------:|-----|")
local met = 0
for _, t in ipairs(targets) do
  local ok = t[2] <= t[3]
  if ok then met = met + 1 end
  print(string.format("| %-62s | %5.2f | %7.2f | %-3s |", t[1], t[2], t[3], ok and "yes" or "no"))
end
for _, name in ipairs(pending_targets) do
  print(string.format("| %-62s | %5s | %7s | %-3s |", name, "-", "-", "pending"))
end
for _, t in ipairs(extra) do
  print(string.format("| %-62s | %5.2f | %7s | %-3s |", t[1], t[2], "-", "-"))
end
print(string.format("\nbench: %d variants measured, %d of %d targets met%s", #c_rows
  + #recv_order + #send_order + bulk_measured, met, #targets,
  #pending_targets > 0 and (", %d pending"):format(#pending_targets) or ""))
