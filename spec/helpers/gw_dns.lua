--- DNS answers for the gateway specs: a query turned into a response with
-- one TXT record, so that dig shows what the answering side saw.
local dns = {}

--- The answer to DNS query q (a string) with one TXT record holding
-- text (at most 255 bytes), or nil when q is not a query.
function dns.txt_answer(q, text)
  if #q < 17 then return nil end
  local i = 13
  while i <= #q and q:byte(i) ~= 0 do i = i + q:byte(i) + 1 end
  if i + 4 > #q then return nil end
  local head = q:sub(1, 2) .. "\129\128" .. q:sub(5, 6) .. "\0\1\0\0\0\0"   -- QR RD RA, one answer
  local rr = "\192\12\0\16\0\1\0\0\0\60" .. string.char(0, #text + 1, #text) .. text
  return head .. q:sub(13, i + 4) .. rr
end

return dns
