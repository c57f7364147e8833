--- Shared by the Windows specs: the module, the test helper DLL, and
-- loopback pairs. Wine's known differences from Windows are named here
-- once, so that a spec marks them pending with the reason.
local pktinfo = require "pktinfo"
local wintest = require "wintest"

local H = { pktinfo = pktinfo, wintest = wintest }

--- Wine's version, or nil on real Windows.
H.wine = wintest.wine()

H.WINE_NO_SENDMSG_CONTROL = "Wine " .. tostring(H.wine) .. ": WSASendMsg ignores control data,"
  .. " so the source cannot be chosen or observed here (test_cmsg_win.exe checks the bytes)"
H.WINE_STREAM_EINVAL = "Wine " .. tostring(H.wine) .. ": IP_PKTINFO on a stream socket answers"
  .. " WSAEINVAL, not WSAENOPROTOOPT (the module's own type check gives ENOPROTOOPT regardless)"

H.LOOPBACK = { inet = "127.0.0.1", inet6 = "::1" }

--- A receiver bound to loopback (or `addr`) with packet info on and a
-- 2 s timeout, its port, and a sender of the same family.
function H.pair(family, addr, opts)
  local r = assert(pktinfo.udp(family, opts))
  assert(r:bind(addr or H.LOOPBACK[family], 0))
  if not (opts and opts.pktinfo == false) then assert(r:setpktinfo(true)) end
  r:settimeout(2)
  local _, port = r:getsockname()
  local s = assert(pktinfo.udp(family))
  s:settimeout(2)
  return r, port, s
end

--- nil when IPv6 loopback works, else the reason.
function H.no_ipv6()
  local s = pktinfo.udp("inet6")
  if not s then return "no IPv6 sockets here" end
  local ok = s:bind("::1", 0)
  s:close()
  if not ok then return "no IPv6 on loopback (::1)" end
end

--- Seconds on a monotonic-enough clock (os.clock is CPU time on POSIX but
-- wall time in the Windows CRT; only lower bounds are asserted).
function H.now() return os.clock() end

return H
