-- A minimal mDNS-style responder (RFC 6762): answers A and AAAA questions
-- for NAME.local, on every link, with the addresses of the interface the
-- question came in on, so a host with two links gives each link its own
-- address. One dual-stack socket joins 224.0.0.251 and ff02::fb on each
-- interface; recv() tells which interface a query arrived on (ifindex), and
-- reply() answers from that interface's own unicast address (never from
-- the group address) out of that same interface.
--
--   lua5.4 examples/mdns_responder.lua NAME IFACE [IFACE ...] [--count N] [--port P]
--   dig -p 5353 @192.0.2.1 NAME.local A                   # a unicast query
--   (a multicast query: see "mDNS responder" in the README)
--
-- The answer is always sent with reply(), as a unicast response to the
-- querier's address and port (RFC 6762 5.4 and 6.7: what one-shot
-- "legacy" queriers need, and what a QU question asks for). With --count
-- it exits after that many answers (the specs use that).
local pktinfo = require "pktinfo"

local name, ifaces, count, port = nil, {}, nil, 5353
do
  local i = 1
  while arg[i] do
    if arg[i] == "--count" then count = tonumber(arg[i + 1]); i = i + 1
    elseif arg[i] == "--port" then port = tonumber(arg[i + 1]); i = i + 1
    elseif not name then name = arg[i]
    else ifaces[#ifaces + 1] = arg[i] end
    i = i + 1
  end
end
if not name or #ifaces == 0 then
  io.stderr:write("usage: mdns_responder.lua NAME IFACE [IFACE ...] [--count N] [--port P]\n")
  os.exit(2)
end
local fqdn = (name:lower():gsub("%.local%.?$", "")) .. ".local"

local GROUP4, GROUP6 = "224.0.0.251", "ff02::fb"
local TYPE_A, TYPE_AAAA, TYPE_ANY, CLASS_IN = 1, 28, 255, 1
local CACHE_FLUSH, QR = 0x8000, 0x8000

-- Big-endian integers, written out so that this runs on Lua 5.1 to 5.4
-- and LuaJIT alike (no string.pack, no bit operators).
local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local function u32(n) return u16(math.floor(n / 65536) % 65536) .. u16(n % 65536) end
local function get16(s, pos)
  local hi, lo = s:byte(pos, pos + 1)
  return lo and hi * 256 + lo
end

--- The IPv4 and IPv6 addresses of each interface, by ifindex (read from
-- `ip -o addr`; link-local IPv6 addresses are left out).
local function interface_addresses()
  local by_index = {}
  local p = assert(io.popen("ip -o addr show 2>/dev/null"))
  for line in p:lines() do
    local idx, fam, addr = line:match("^(%d+):%s+%S+%s+(inet6?)%s+([%x%.:]+)/")
    idx = tonumber(idx)
    if idx and not addr:match("^fe80:") then
      local t = by_index[idx] or { inet = {}, inet6 = {} }
      by_index[idx] = t
      table.insert(t[fam], addr)
    end
  end
  p:close()
  return by_index
end

--- The 4 or 16 bytes of an address in text form.
local function address_bytes(text)
  if text:find(".", 1, true) then
    local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return string.char(tonumber(a), tonumber(b), tonumber(c), tonumber(d))
  end
  local head, tail = text:match("^(.-)::(.*)$")
  local function groups(s)
    local g = {}
    for x in s:gmatch("[^:]+") do g[#g + 1] = tonumber(x, 16) end
    return g
  end
  local left, right = groups(head or text), head and groups(tail) or {}
  local words = {}
  for _, w in ipairs(left) do words[#words + 1] = w end
  for _ = 1, 8 - #left - #right do words[#words + 1] = 0 end
  for _, w in ipairs(right) do words[#words + 1] = w end
  local out = {}
  for i = 1, 8 do out[i] = u16(words[i]) end
  return table.concat(out)
end

--- Reads a (possibly compressed) name at pos; returns it and the position
-- after it, or nil on a malformed packet.
local function read_name(packet, pos)
  local labels, after, jumps = {}, nil, 0
  while true do
    local len = packet:byte(pos)
    if not len then return nil end
    if len == 0 then pos = pos + 1; break end
    if len >= 0xc0 then
      local low = packet:byte(pos + 1)
      if not low or jumps > 16 then return nil end
      after = after or pos + 2
      pos = (len - 0xc0) * 256 + low + 1
      jumps = jumps + 1
    else
      labels[#labels + 1] = packet:sub(pos + 1, pos + len)
      pos = pos + 1 + len
    end
  end
  return table.concat(labels, "."):lower(), after or pos
end

--- Encodes a name as DNS labels.
local function encode_name(n)
  local out = {}
  for label in n:gmatch("[^.]+") do out[#out + 1] = string.char(#label) .. label end
  return table.concat(out) .. "\0"
end

--- Builds the answer to one query, or nil when it asks nothing of ours.
-- A legacy query (source port not 5353) gets its id and question echoed
-- and short TTLs without the cache-flush bit (RFC 6762 6.7).
local function answer(query, info, addrs)
  if #query < 12 then return nil end
  local id, flags, qdcount = get16(query, 1), get16(query, 3), get16(query, 5)
  if flags >= QR then return nil end                  -- a response, not a query
  local legacy = info.port ~= 5353
  local pos, records, question = 13, {}, nil
  for _ = 1, qdcount do
    local qname, after = read_name(query, pos)
    if not qname or #query < after + 3 then return nil end
    local qtype, qclass = get16(query, after), get16(query, after + 2)
    if qname == fqdn and qclass % CACHE_FLUSH == CLASS_IN then  -- QU bit or not
      question = question or query:sub(pos, after + 3)
      local want = {}
      if qtype == TYPE_A or qtype == TYPE_ANY then want[#want + 1] = { TYPE_A, "inet" } end
      if qtype == TYPE_AAAA or qtype == TYPE_ANY then want[#want + 1] = { TYPE_AAAA, "inet6" } end
      for _, w in ipairs(want) do
        for _, a in ipairs(addrs[w[2]]) do
          local rdata = address_bytes(a)
          records[#records + 1] = encode_name(fqdn) .. u16(w[1])
            .. u16(legacy and CLASS_IN or CLASS_IN + CACHE_FLUSH)
            .. u32(legacy and 10 or 120) .. u16(#rdata) .. rdata
        end
      end
    end
    pos = after + 4
  end
  if #records == 0 then return nil end
  return u16(legacy and id or 0) .. u16(0x8400) .. u16(legacy and 1 or 0)
         .. u16(#records) .. u16(0) .. u16(0)
         .. (legacy and question or "") .. table.concat(records)
end

local sock = assert(pktinfo.udp("inet6", { pktinfo = true, reuseaddr = true, reuseport = true }))
assert(sock:bind("*", port))
for _, iface in ipairs(ifaces) do
  assert(sock:join(GROUP4, iface))
  assert(sock:join(GROUP6, iface))
end
io.stdout:write(("mdns_responder: %s on %s, port %d\n"):format(fqdn, table.concat(ifaces, " "), port))
io.stdout:flush()

local addresses = interface_addresses()
local info, answered = {}, 0
while not count or answered < count do
  local query, err = sock:recv(9000, info)
  if not query then error(err) end
  local addrs = addresses[info.ifindex]
  if not addrs then                               -- an interface added since
    addresses = interface_addresses()
    addrs = addresses[info.ifindex] or { inet = {}, inet6 = {} }
  end
  local packet = answer(query, info, addrs)
  if packet then
    local ok, serr = sock:reply(packet, info)
    answered = answered + 1
    io.stdout:write(("answered %s: %s\n"):format(pktinfo.describe(info),
      ok and "sent" or tostring(serr)))
    io.stdout:flush()
  end
end
