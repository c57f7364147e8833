-- A tiny DNS responder for the rig: answers every A query with 192.0.2.53.
-- With "plain" it answers with sendto and no source (what servers that
-- ignore packet info do), which strict clients like dig reject on a
-- multi-homed host.
--   lua dns_responder.lua PORT COUNT [plain]
local pktinfo = require "pktinfo"
local port, count, plain = tonumber(arg[1]), tonumber(arg[2]), arg[3] == "plain"
local s = assert(pktinfo.udp("inet", { pktinfo = true }))
assert(s:bind("*", port))
io.stdout:write("ready\n"); io.stdout:flush()

-- The answer: the query with QR/RA set, one answer pointing at the question.
local function answer(q)
  if #q < 12 then return nil end
  local flags = q:sub(3, 4)
  local b = flags:byte(1) % 128 + 128                     -- QR set, opcode and RD kept
  if math.floor(b / 4) % 2 == 1 then b = b - 4 end        -- no AA
  if math.floor(b / 2) % 2 == 1 then b = b - 2 end        -- no TC
  local hi = string.char(b)
  local lo = string.char(0x80)                            -- RA, rcode 0
  local head = q:sub(1, 2) .. hi .. lo .. q:sub(5, 6) .. "\0\1" .. "\0\0\0\0"
  -- question section: name then type and class
  local i = 13
  while i <= #q and q:byte(i) ~= 0 do i = i + q:byte(i) + 1 end
  local question = q:sub(13, i + 4)
  local rr = "\192\12" .. "\0\1\0\1" .. "\0\0\0\60" .. "\0\4" .. string.char(192, 0, 2, 53)
  return head .. question .. rr
end

for _ = 1, count do
  local q, info = s:recv()
  local a = q and answer(q)
  if a then
    if plain then s:sendto(a, info.from, info.port) else s:reply(a, info) end
  end
end
