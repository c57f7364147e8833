--- A small network in namespaces for the extras and multicast specs.
--
--   A (eth0) ---- (eth1) H (eth2) ---- (eth0) B
--   192.0.2.2      192.0.2.1   198.51.100.1    198.51.100.2
--   2001:db8:1::2  2001:db8:1::1  2001:db8:2::1  2001:db8:2::2
--
-- H is the host with two links; A and B are one peer on each link. Every
-- namespace is named after this process's pid and a counter, and
-- rig:close() deletes them (and with them the veth pairs).
--
-- Lua code runs inside a namespace in a child process (`ip netns exec`):
-- rig:spawn(ns, code, ...) starts it and returns a handle; the child calls
-- ready() once its sockets are bound, which h:wait_ready() waits for; the
-- chunk returns a table, which h:finish() hands back (or raises the
-- child's error). rig:run(ns, code, ...) does both. Nothing here relies on
-- timing: children use receive timeouts only as an upper bound, and every
-- child runs under `timeout 120` so that a failed test cannot hang the run.
--
-- Run as a script (`lua mcast_rig.lua child FILE args...`) this file is
-- that child.
local rig = {}
rig.__index = rig

local LUA = os.getenv("LUA") or "lua5.4"
local unpack = table.unpack or unpack
rig.LUA = LUA

--- Loads Lua source with an environment, on Lua 5.1 to 5.4 and LuaJIT.
local loadstring = rawget(_G, "loadstring")
local function load_with(src, name, env)
  if setfenv and loadstring then
    local f, err = loadstring(src, name)
    if f then setfenv(f, env) end
    return f, err
  end
  return load(src, name, "t", env)
end
rig.load = load_with

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Serialises plain data (tables of strings, numbers, booleans) as Lua.
local function serialize(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" then
    if math.type and math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "0/0" end
    return string.format("%.17g", v)
  end
  if t == "boolean" or t == "nil" then return tostring(v) end
  if t == "table" and depth < 20 then
    local parts = {}
    for k, x in pairs(v) do
      parts[#parts + 1] = "[" .. serialize(k, depth + 1) .. "]=" .. serialize(x, depth + 1)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return string.format("%q", tostring(v))
end
rig.serialize = serialize

-- The child: runs the chunk in FILE with the remaining arguments.
if arg and arg[0] and arg[0]:match("mcast_rig%.lua$") and arg[1] == "child" then
  io.stdout:setvbuf("line")
  local pktinfo = require "pktinfo"
  local env = setmetatable({
    pktinfo = pktinfo,
    ready = function() io.stdout:write("READY\n"); io.stdout:flush() end,
    serialize = serialize,
  }, { __index = _G })
  local src = assert(io.open(arg[2])):read("*a")
  local chunk, err = load_with(src, "=" .. arg[2], env)
  if not chunk then io.stdout:write("ERROR ", (err:gsub("\n", " ")), "\n"); os.exit(1) end
  local args = { n = #arg - 2 }
  for i = 3, #arg do args[i - 2] = arg[i] end
  local ok, res = xpcall(function() return chunk(unpack(args, 1, args.n)) end, debug.traceback)
  if not ok then
    io.stdout:write("ERROR ", (tostring(res):gsub("\n", " | ")), "\n")
    os.exit(1)
  end
  io.stdout:write("RESULT ", serialize(res or {}), "\n")
  os.exit(0)
end

local counter = 0

local function pid()
  local f = io.open("/proc/self/stat")
  local p = f and f:read("*l"):match("^(%d+)")
  if f then f:close() end
  return p or tostring(os.time() % 100000)
end

--- Runs a shell command; returns its output, or raises with it (the exit
-- status is read from the output: Lua 5.1's pipe close does not give it).
local function sh(cmd)
  local f = assert(io.popen("{ " .. cmd .. "; } 2>&1; echo \"__rc=$?\""))
  local out = f:read("*a")
  f:close()
  local body, code = out:match("^(.-)__rc=(%d+)%s*$")
  if code ~= "0" then error(string.format("command failed (%s): %s\n%s", tostring(code), cmd, body or out), 2) end
  return body
end
rig.sh = sh

--- Runs a command inside namespace ns (a key of rig.ns, or a name).
function rig:exec(ns, cmd)
  return sh("ip netns exec " .. (self.ns[ns] or ns) .. " " .. cmd)
end

--- The index of interface dev in namespace ns, read from `ip -o link`.
function rig:ifindex(ns, dev)
  local out = sh("ip -n " .. (self.ns[ns] or ns) .. " -o link show dev " .. dev)
  return tonumber(out:match("^(%d+):"))
end

--- Builds the network. Raises (after cleaning up) if anything fails.
function rig.new()
  counter = counter + 1
  local base = "pkmc-" .. pid() .. "-" .. counter
  local self = setmetatable({ ns = { h = base .. "-h", a = base .. "-a", b = base .. "-b" },
                              tmp = {} }, rig)
  local ok, err = pcall(function()
    for _, key in ipairs { "h", "a", "b" } do
      local n = self.ns[key]
      sh("ip netns add " .. n)
      self.created = self.created or {}
      self.created[#self.created + 1] = n
      -- No duplicate address detection: addresses (link-local ones too)
      -- are usable at once, so no test waits for DAD.
      sh("ip netns exec " .. n .. " sh -c 'for c in all default; do " ..
         "echo 0 > /proc/sys/net/ipv6/conf/$c/accept_dad; done'")
      sh("ip -n " .. n .. " link set lo up")
    end
    local h, a, b = self.ns.h, self.ns.a, self.ns.b
    sh("ip -n " .. h .. " link add eth1 type veth peer name eth0 netns " .. a)
    sh("ip -n " .. h .. " link add eth2 type veth peer name eth0 netns " .. b)
    local plan = {
      { h, "eth1", "192.0.2.1/24", "2001:db8:1::1/64" },
      { h, "eth2", "198.51.100.1/24", "2001:db8:2::1/64" },
      { a, "eth0", "192.0.2.2/24", "2001:db8:1::2/64" },
      { b, "eth0", "198.51.100.2/24", "2001:db8:2::2/64" },
    }
    for _, p in ipairs(plan) do
      sh(string.format("ip -n %s addr add %s dev %s", p[1], p[3], p[2]))
      sh(string.format("ip -n %s -6 addr add %s dev %s nodad", p[1], p[4], p[2]))
      sh(string.format("ip -n %s link set %s up", p[1], p[2]))
    end
    -- The peers send IPv4 multicast out of their only link.
    sh("ip -n " .. a .. " route add 224.0.0.0/4 dev eth0")
    sh("ip -n " .. b .. " route add 224.0.0.0/4 dev eth0")
    self.index = { h = { eth1 = self:ifindex("h", "eth1"), eth2 = self:ifindex("h", "eth2"),
                         lo = self:ifindex("h", "lo") },
                   a = { eth0 = self:ifindex("a", "eth0") },
                   b = { eth0 = self:ifindex("b", "eth0") } }
  end)
  if not ok then self:close(); error(err, 2) end
  return self
end

--- The link-local address of dev in ns (without scope).
function rig:linklocal(ns, dev)
  local out = sh("ip -n " .. (self.ns[ns] or ns) .. " -6 -o addr show dev " .. dev .. " scope link")
  return out:match("inet6 (fe80:[%x:]+)/")
end

--- Ends the child processes still running in the rig's namespaces (a
-- test that failed half-way may leave one), by their ids, then deletes the
-- namespaces and temporary files; safe twice.
function rig:close()
  for _, n in ipairs(self.created or {}) do
    local p = io.popen("ip netns pids " .. n .. " 2>/dev/null")
    local pids = p and p:read("*a") or ""
    if p then p:close() end
    for id in pids:gmatch("%d+") do os.execute("kill " .. id .. " 2>/dev/null") end
    os.execute("ip netns del " .. n .. " >/dev/null 2>&1")
  end
  self.created = nil
  for _, f in ipairs(self.tmp) do os.remove(f) end
  self.tmp = {}
end

local handle = {}
handle.__index = handle

--- Starts `code` (Lua source; gets pktinfo, ready(), serialize and ...)
-- in namespace ns. Returns a handle.
function rig:spawn(ns, code, ...)
  local file = os.tmpname()
  self.tmp[#self.tmp + 1] = file
  local f = assert(io.open(file, "w"))
  f:write(code)
  f:close()
  local args = {}
  for i = 1, select("#", ...) do args[#args + 1] = shell_quote(select(i, ...)) end
  local build = os.getenv("PKTINFO_BUILD") or "build"
  local cmd = string.format(
    "timeout 120 ip netns exec %s env LUA_CPATH=%s LUA_PATH=%s %s spec/helpers/mcast_rig.lua child %s %s 2>&1",
    self.ns[ns] or ns, shell_quote(build .. "/?.so;;"), shell_quote("lua/?.lua;spec/?.lua;;"),
    LUA, file, table.concat(args, " "))
  return setmetatable({ pipe = assert(io.popen(cmd, "r")), log = {} }, handle)
end

-- Reads one line of the child's output; nil at its end.
function handle:line()
  local l = self.pipe:read("*l")
  if l then self.log[#self.log + 1] = l end
  return l
end

--- Waits until the child has called ready() (raises if it ended first).
function handle:wait_ready()
  for l in self.line, self do
    if l == "READY" then return true end
    if l:match("^ERROR ") or l:match("^RESULT ") then
      self.early = l
      break
    end
  end
  error("child ended before ready: " .. table.concat(self.log, "\n"), 2)
end

--- Waits for the child's end; returns its result table or raises.
function handle:finish()
  local last = self.early
  for l in self.line, self do
    if l:match("^RESULT ") or l:match("^ERROR ") then last = l end
  end
  self.pipe:close()
  if last and last:match("^RESULT ") then
    return assert(load_with("return " .. last:sub(8), "=result", {}))()
  end
  error("child failed: " .. table.concat(self.log, "\n"), 2)
end

--- Starts a shell command in ns (output and errors read as lines).
function rig:spawn_cmd(ns, cmd)
  local build = os.getenv("PKTINFO_BUILD") or "build"
  local full = string.format("timeout 120 ip netns exec %s env LUA_CPATH=%s LUA_PATH=%s %s 2>&1",
    self.ns[ns] or ns, shell_quote(build .. "/?.so;;"), shell_quote("lua/?.lua;;"), cmd)
  return setmetatable({ pipe = assert(io.popen(full, "r")), log = {} }, handle)
end

--- Reads lines until one matches pattern; returns it (raises at the end).
function handle:wait_for(pattern)
  for l in self.line, self do
    if l:match(pattern) then return l end
  end
  error("no line matching " .. pattern .. " in:\n" .. table.concat(self.log, "\n"), 2)
end

--- Reads to the end; returns all lines as one string.
function handle:rest()
  for _ in self.line, self do end
  self.pipe:close()
  return table.concat(self.log, "\n")
end

--- Runs code in ns to its end; returns its result table.
function rig:run(ns, code, ...)
  return self:spawn(ns, code, ...):finish()
end

return rig
