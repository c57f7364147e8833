--- Gates for specs that need privileges or kernel features. Each returns
-- nil when the test can run, or the reason it cannot; a spec then calls
-- pending(reason), so nothing passes silently where it could not run.
local gate = {}

local function sh_ok(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local root
--- nil when running as root, else the reason.
function gate.root(what)
  if root == nil then
    local f = io.popen("id -u")
    root = f and f:read("*l") == "0"
    if f then f:close() end
  end
  if not root then return "needs root: " .. (what or "privileged test") end
end

local netns
--- nil when network namespaces can be created here, else the reason.
function gate.netns()
  local why = gate.root("network namespaces")
  if why then return why end
  if netns == nil then
    local name = "pkt-probe-" .. tostring(os.time()) .. tostring(math.random(1e6))
    netns = sh_ok("ip netns add " .. name) and sh_ok("ip netns del " .. name)
  end
  if not netns then return "cannot create network namespaces (ip netns add failed)" end
end

--- nil when IPv6 works on loopback, else the reason.
function gate.ipv6()
  local pktinfo = require "pktinfo"
  local s = pktinfo.udp("inet6")
  if not s then return "no IPv6 sockets here" end
  local ok = s:bind("::1", 0)
  s:close()
  if not ok then return "no IPv6 on loopback (::1)" end
end

--- nil when a command exists, else the reason.
function gate.command(cmd)
  if not sh_ok("command -v " .. cmd) then return "needs the command " .. cmd end
end

return gate
