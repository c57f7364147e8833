--- Starts and stops a real nginx (Debian nginx + libnginx-mod-http-lua) under
-- a temporary prefix for spec/40-nginx_spec.lua, with pktinfo built for
-- LuaJIT (the ABI of the nginx Lua module) and world-readable, since the
-- workers run as nobody.
local server = {}

local MODDIR = "/usr/lib/nginx/modules"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function slurp(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("*a")
  f:close()
  return out
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

--- nil when the nginx test can run here, else the reason.
function server.gate()
  if not sh("command -v nginx >/dev/null 2>&1") then return "needs nginx (Debian nginx)" end
  for _, m in ipairs { "ndk_http_module.so", "ngx_http_lua_module.so" } do
    if not exists(MODDIR .. "/" .. m) then
      return "needs " .. MODDIR .. "/" .. m .. " (Debian libnginx-mod-http-lua)"
    end
  end
  if not exists("/usr/share/lua/5.1/resty/core.lua") then
    return "needs lua-resty-core"
  end
  if not pcall(require, "socket.http") then return "needs LuaSocket (Debian lua-socket)" end
  if not sh("pkg-config --exists luajit") then
    return "needs the LuaJIT headers (Debian libluajit2-5.1-dev)"
  end
end

--- A free port on 127.0.0.1 for the given socket type ("udp" or "tcp").
local function free_port(kind)
  local socket = require "socket"
  local s = kind == "udp" and socket.udp() or socket.tcp()
  assert(kind == "udp" and s:setsockname("127.0.0.1", 0) or s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- Builds pktinfo for LuaJIT into <build>/nginx-luajit (incremental) and
-- returns the path of core.so.
local function build_luajit_module()
  local build = (os.getenv("PKTINFO_BUILD") or "build") .. "/nginx-luajit"
  local so = build .. "/pktinfo/core.so"
  local log = slurp(string.format("make -s LUA=luajit BUILD=%s %s 2>&1; echo \"exit=$?\"", build, so))
  assert(log:find("exit=0", 1, true), "building pktinfo for LuaJIT failed:\n" .. log)
  return so
end

--- Our config: spec/nginx/nginx.conf.in with its @NAMES@ filled in.
local function spec_conf(self, root)
  local conf = assert(io.open("spec/nginx/nginx.conf.in")):read("*a")
  return (conf:gsub("@([%u_]+)@", {
    PREFIX = self.prefix, MODDIR = MODDIR,
    USER = root and "user nobody nogroup;" or "",
    UDP_PORT = tostring(self.udp_port), HTTP_PORT = tostring(self.http_port),
  }))
end

--- examples/nginx.conf as shipped, with the install paths pointed into the
-- prefix and the two ports replaced by free ones.
function server.example_conf(self)
  local conf = assert(io.open("examples/nginx.conf")):read("*a")
  conf = conf:gsub("/usr/local/share/lua/5%.1/", self.prefix .. "/lua/")
             :gsub("/usr/local/lib/lua/5%.1/", self.prefix .. "/lib/")
             :gsub("5300", tostring(self.udp_port))
             :gsub("127%.0%.0%.1:8080", "127.0.0.1:" .. self.http_port)
  return conf
end

--- Lays out a prefix, starts nginx with make_conf(self, root) (default:
-- spec/nginx/nginx.conf.in); returns a handle with the ports.
function server.start(make_conf)
  local so = build_luajit_module()
  local prefix = slurp("mktemp -d /tmp/pktinfo-nginx.XXXXXX"):gsub("%s+$", "")
  assert(prefix ~= "", "mktemp failed")
  local self = { prefix = prefix, udp_port = free_port("udp"), http_port = free_port("tcp") }
  assert(sh(string.format(
    "mkdir -p %s/conf %s/logs %s/lua %s/lib/pktinfo && cp %s %s/lib/pktinfo/core.so && " ..
    "cp lua/pktinfo.lua spec/nginx/pkdrain.lua %s/lua/ && chmod -R a+rX %s",
    prefix, prefix, prefix, prefix, so, prefix, prefix, prefix)))
  local root = slurp("id -u"):match("^0") ~= nil
  local out
  for _ = 1, 3 do   -- a free port can be taken before nginx binds it: retry
    local f = assert(io.open(prefix .. "/conf/nginx.conf", "w"))
    f:write((make_conf or spec_conf)(self, root))
    f:close()
    out = slurp(string.format("nginx -p %s -c conf/nginx.conf -e %s/logs/error.log 2>&1; echo \"exit=$?\"",
      prefix, prefix))
    if not out:find("in use", 1, true) then break end
    self.udp_port, self.http_port = free_port("udp"), free_port("tcp")
  end
  if not out:find("exit=0", 1, true) then
    server.stop(self)
    error("nginx did not start:\n" .. out)
  end
  self.pid = tonumber((slurp("cat " .. prefix .. "/logs/nginx.pid 2>/dev/null"):match("%d+")))
  -- nginx returns before its worker has run init_worker (and bound the UDP
  -- socket); once the worker answers HTTP it has. Bounded; tests check.
  server.wait(function() return server.get(self, "/last") end, 10)
  return self
end

--- GET http://127.0.0.1:<http_port><path>; returns the body or nil, err.
function server.get(self, path)
  local http = require "socket.http"
  local body, code = http.request(string.format("http://127.0.0.1:%d%s", self.http_port, path))
  if body and code == 200 then return body end
  return nil, tostring(code)
end

--- The "key=value" report of the worker as a table.
function server.report(self)
  local body, err = server.get(self, "/last")
  if not body then return nil, err end
  local t = {}
  for k, v in body:gmatch("([%w_]+)=([^\n]*)") do t[k] = v end
  return t
end

--- Polls f() every 20 ms until it returns a true value or `limit` seconds
-- pass (a bound, not a timing assertion); returns f's last value.
function server.wait(f, limit)
  local socket = require "socket"
  local deadline = socket.gettime() + (limit or 10)
  repeat
    local v = f()
    if v then return v end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  return f()
end

--- The error log (for failure messages).
function server.log(self)
  local f = io.open(self.prefix .. "/logs/error.log")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

--- The uids of the master's worker processes, from /proc.
function server.worker_uids(self)
  local uids = {}
  if not self.pid then return uids end
  -- every /proc/N/status whose PPid is the master (no ps needed)
  local files = slurp(string.format("grep -l -E '^PPid:[[:space:]]+%d$' /proc/[0-9]*/status 2>/dev/null",
    self.pid))
  for file in files:gmatch("[^\n]+") do
    local st = io.open(file)
    if st then
      local uid = st:read("*a"):match("\nUid:%s+(%d+)")
      st:close()
      uids[#uids + 1] = tonumber(uid)
    end
  end
  return uids
end

--- Stops nginx by its pid (QUIT: workers finish, timers get premature),
-- waits for it to exit, then removes the prefix.
function server.stop(self)
  if self.pid then
    sh("kill -QUIT " .. self.pid .. " 2>/dev/null")
    local gone = server.wait(function() return not sh("kill -0 " .. self.pid .. " 2>/dev/null") end, 10)
    if not gone then
      -- the daemon leads its own session: kill the workers with it
      sh("kill -KILL -- -" .. self.pid .. " " .. self.pid .. " 2>/dev/null")
    end
    self.pid = nil
  end
  if self.prefix and self.prefix:match("^/tmp/pktinfo%-nginx%.") then
    sh("rm -rf " .. self.prefix)
  end
end

return server
