--- The module's bulk-flow rows of `make bench` (bench/bench.lua runs
-- this through `cbulk spawn`, which opens the sockets, on loopback or in
-- two network namespaces joined by a veth pair): one flow of 1,200-byte
-- datagrams, sendmany of 64 items with and without gso (the receiver has
-- gro on), and recvmany(64) with and without gro, fed by a gso sender;
-- besides, recvmany(64) into a reused list and sendto of 64 datagrams'
-- worth with segment, the forms with the least Lua work per datagram.
-- Each round sends, or fills and drains, K datagrams; only the sends or
-- the drain are timed, in process CPU time (os.clock), and every datagram
-- must arrive. Prints one line per variant: its name, then nanoseconds
-- per datagram, one number per round.
--
-- Usage: cbulk spawn NS_TX NS_RX -- lua bench/bulk.lua K ROUNDS
local pktinfo = require "pktinfo"

local K, ROUNDS = tonumber(arg[1]), tonumber(arg[2])
local BATCH, SIZE = 64, 1200
local clock = os.clock

--- A socket on a descriptor cbulk left open (in env var name).
local function adopt(name, opts)
  local s = assert(pktinfo.wrap(assert(tonumber(os.getenv(name)), name), opts))
  s:settimeout(1)                           -- a lost datagram must not hang
  return s
end

local tx = adopt("BULK_TX_FD", { own = true })
local rx = adopt("BULK_RX_FD", { own = true, pktinfo = true })
local rxg = adopt("BULK_RXG_FD", { own = true, pktinfo = true })
assert(rxg:setoption("gro", true))
local addr = assert(os.getenv("BULK_RX_ADDR"))

--- A list of BATCH items to port: one flow of SIZE-byte datagrams.
local function items(port)
  local list, data = {}, ("x"):rep(SIZE)
  for i = 1, BATCH do list[i] = { data = data, to = addr, port = port } end
  return list
end

--- Sends K datagrams to s's port, BATCH per sendmany.
local function send_all(list)
  for _ = 1, K / BATCH do assert(tx:sendmany(list) == BATCH, "sendmany refused a datagram") end
end

--- Receives K datagrams on s with recvmany(BATCH [, nil, into]); returns
-- the count (fewer only when one did not come within the timeout).
local function drain(s, into)
  local n = 0
  while n < K do
    local list = s:recvmany(BATCH, nil, into)
    if not list or not list[#list].addr then break end
    n = n + #list
  end
  return n
end

local variants = {
  { "sendmany(64), no gso", function(list_g)
      assert(tx:setoption("gso", false))
      local t0 = clock(); send_all(list_g); local t1 = clock()
      return t1 - t0, drain(rxg)
    end },
  { "sendmany(64), gso", function(list_g)
      assert(tx:setoption("gso", true))
      local t0 = clock(); send_all(list_g); local t1 = clock()
      return t1 - t0, drain(rxg)
    end },
  { "recvmany(64), no gro", function(_, list_p)
      assert(tx:setoption("gso", true)); send_all(list_p)
      local t0 = clock(); local n = drain(rx); local t1 = clock()
      return t1 - t0, n
    end },
  { "recvmany(64), gro", function(list_g)
      assert(tx:setoption("gso", true)); send_all(list_g)
      local t0 = clock(); local n = drain(rxg); local t1 = clock()
      return t1 - t0, n
    end },
  -- not targets: the forms with least Lua work per datagram
  { "recvmany(64, nil, into), gro", function(list_g)
      assert(tx:setoption("gso", true)); send_all(list_g)
      local t0 = clock(); local n = drain(rxg, {}); local t1 = clock()
      return t1 - t0, n
    end },
  { "sendto(segment = 1200), gso", function(list_g)
      assert(tx:setoption("gso", true))
      local port, long = list_g[1].port, ("x"):rep(SIZE * BATCH)
      local src = { segment = SIZE }
      local t0 = clock()
      for _ = 1, K / BATCH do assert(tx:sendto(long, addr, port, src) == SIZE * BATCH) end
      local t1 = clock()
      return t1 - t0, drain(rxg)
    end },
}

local list_g, list_p = items(select(2, rxg:getsockname())), items(select(2, rx:getsockname()))
for _, v in ipairs(variants) do
  local out = { v[1] }
  for _ = 1, ROUNDS do
    collectgarbage("step")
    local t, n = v[2](list_g, list_p)
    if n ~= K then error(("%s: %d of %d datagrams arrived"):format(v[1], n, K)) end
    out[#out + 1] = ("%.1f"):format(t * 1e9 / K)
  end
  print(table.concat(out, "\t"))
end
tx:close(); rx:close(); rxg:close()
