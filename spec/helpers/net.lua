--- Loopback helpers for the specs: bound server sockets, senders, and a
-- sender that fires later from another process (to test blocking waits).
local pktinfo = require "pktinfo"

local net = {}

--- A socket of family bound to addr on a free port, with packet info on;
-- returns the socket and its port.
function net.server(family, addr, opts)
  local s = assert(pktinfo.udp(family, opts))
  assert(s:bind(addr or "*", 0))
  assert(s:setpktinfo(true))
  s:settimeout(2)
  local _, port = s:getsockname()
  return s, port
end

--- Sends data to addr:port from a fresh socket of the right family.
function net.send(addr, port, data, family)
  family = family or (addr:find(":", 1, true) and "inet6" or "inet")
  local c = assert(pktinfo.udp(family))
  local n, err = c:sendto(data, addr, port)
  c:close()
  assert(n, err)
  return n
end

--- The Lua interpreter running the specs (for helper processes).
function net.lua()
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  local interp = arg and arg[i]
  if not interp or interp:find("busted") then interp = os.getenv("LUA") or "lua5.4" end
  return interp
end

--- Sends data to addr:port after `delay` seconds, from a background process.
function net.send_later(delay, addr, port, data)
  local code = string.format(
    "package.cpath=%q package.path=%q local p=require'pktinfo' " ..
    "local c=p.udp(%q) c:sendto(%q,%q,%d)",
    package.cpath, package.path, addr:find(":", 1, true) and "inet6" or "inet",
    data, addr, port)
  os.execute(string.format("(sleep %s; %s -e %q) >/dev/null 2>&1 &", delay, net.lua(), code))
end

--- Wall-clock-free elapsed time in seconds for a function (os.time has
-- only second resolution; socket.gettime is LuaSocket's).
function net.elapsed(fn)
  local socket = require "socket"
  local t0 = socket.gettime()
  local a, b, c = fn()
  return socket.gettime() - t0, a, b, c
end

--- The descriptor numbers this process has open, from /proc.
function net.open_fds()
  local stat = io.open("/proc/self/stat")
  if not stat then return nil end
  local pid = stat:read("*l"):match("^(%d+)")
  stat:close()
  local fds = {}
  local ls = io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null")
  for line in ls:lines() do
    local fd, target = line:match("%s(%d+) %-> (.*)$")
    if fd then fds[tonumber(fd)] = target end
  end
  ls:close()
  return fds
end

--- How many sockets this process has open, or nil without /proc. Only
-- sockets: the module opens nothing else, and the pipes and files of the
-- harness (this very listing is read through a pipe) come and go.
function net.fd_count()
  local fds = net.open_fds()
  if not fds then return nil end
  local n = 0
  for _, target in pairs(fds) do
    if target:find("^socket:") then n = n + 1 end
  end
  return n
end

--- Lua memory in KiB after full collections. On LuaJIT compiled traces
-- count as Lua memory, so they are flushed first.
function net.lua_kib()
  if jit then jit.flush() end
  collectgarbage(); collectgarbage()
  return collectgarbage("count")
end

--- Resident set size in KiB from /proc, or nil (also under ASan or
-- valgrind, whose allocators keep freed blocks on purpose).
function net.rss_kib()
  if os.getenv("PKTINFO_SANITIZER") then return nil end
  local f = io.open("/proc/self/statm")
  if not f then return nil end
  local pages = f:read("*l"):match("^%d+%s+(%d+)")
  f:close()
  return tonumber(pages) * 4
end

--- Why segmentation offload cannot be tested here (the kernel lacks
-- UDP_GRO or UDP_SEGMENT), or nil.
function net.no_offload()
  local s = assert(pktinfo.udp())
  s:setoption("gro", true); s:setoption("gso", true)
  local ok = s:getoption("gro") and s:getoption("gso")
  s:close()
  if not ok then return "this kernel has no UDP_GRO / UDP_SEGMENT (Linux 5.0+)" end
end

return net
