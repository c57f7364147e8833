--- Runs bin/pktinfo as a user would (a subprocess of the Lua under test,
-- with the build's module on its paths), and a multi-homed network of two
-- namespaces to run it in:
--
--   client ns                          server ns
--   ca 198.51.100.2/24 2001:db8:a::2 ==== sa 198.51.100.1/24 2001:db8:a::1
--   cb 203.0.113.2/24  2001:db8:b::2 ==== sb 203.0.113.1/24  2001:db8:b::1
--                                         lo 192.0.2.1/32    2001:db8:1::1  (service)
--
-- The client routes the service addresses over link A, and link A's server
-- addresses over link B: a datagram to 198.51.100.1 arrives on sb.
-- Namespace names carry this process's id and a random tag.
local net = require "helpers.net"

local cli = {}

--- Quotes one word for sh.
local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
cli.quote = q

--- The output of a shell command (stdout and stderr).
local function read(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local out = f:read("*a")
  f:close()
  return out
end

--- Runs a shell command; raises with its output if it fails.
local function must(cmd)
  local out = read("{ " .. cmd .. "; } ; echo \"__rc=$?\"")
  local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
  if rc ~= "0" then error("cli_rig: command failed: " .. cmd .. "\n" .. (body or out), 2) end
  return body
end
cli.must = must

local function slurp(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end
cli.slurp = slurp

local cwd = read("pwd"):gsub("%s+$", "")
cli.root_dir = cwd
cli.lua = net.lua()
cli.build = os.getenv("PKTINFO_BUILD") or "build"
local function abs(p) return p:sub(1, 1) == "/" and p or cwd .. "/" .. p end

--- The environment that makes the child find this tree's module first.
function cli.env(dir)
  dir = dir or { lua = abs("lua"), build = abs(cli.build), bin = abs("bin") }
  return ("env LUA_PATH=%s LUA_CPATH=%s"):format(q(dir.lua .. "/?.lua;;"), q(dir.build .. "/?.so;;"))
end

--- The shell command that runs `pktinfo ARGS...` (args: a list of words).
function cli.command(args, dir)
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local bin = dir and dir.bin or abs("bin")
  return ("%s %s %s %s"):format(cli.env(dir), cli.lua, q(bin .. "/pktinfo"), table.concat(words, " "))
end

--- Runs pktinfo to its end. opts: ns (namespace), prefix (words put
-- before the command, e.g. setpriv), stdin (text), dir (other files).
-- Returns { out =, err =, code = }.
function cli.run(args, opts)
  opts = opts or {}
  local out, err = os.tmpname(), os.tmpname()
  local cmd = cli.command(args, opts.dir)
  if opts.prefix then cmd = opts.prefix .. " " .. cmd end
  if opts.ns then cmd = "ip netns exec " .. q(opts.ns) .. " " .. cmd end
  local input = "</dev/null"
  if opts.stdin then
    input = "<" .. os.tmpname()
    local f = assert(io.open(input:sub(2), "w"))
    f:write(opts.stdin)
    f:close()
  end
  local rc = read(("timeout 60 %s %s >%s 2>%s; echo $?"):format(cmd, input, out, err))
  local r = { out = slurp(out), err = slurp(err), code = tonumber(rc:match("(%d+)%s*$")) }
  os.remove(out); os.remove(err)
  if opts.stdin then os.remove(input:sub(2)) end
  return r
end

local handle = {}
handle.__index = handle

--- Starts a long-running pktinfo (listen, echo) in ns; waits for its
-- "listening on" line and reads the port from it (args should give port 0).
-- ns nil: in this namespace.
function cli.spawn(ns, args)
  local h = setmetatable({ err = os.tmpname(), lines = {} }, handle)
  local cmd = ("{ timeout 60 %s %s 2>%s </dev/null; echo \"__rc=$?\"; }"):format(
    ns and "ip netns exec " .. q(ns) or "", cli.command(args), h.err)
  h.pipe = assert(io.popen(cmd, "r"))
  for _ = 1, 200 do
    local e = slurp(h.err)
    h.port = tonumber(e:match("listening on %S-:(%d+)"))
    if h.port then return h end
    if e:find("pktinfo: ", 1, true) then break end
    os.execute("sleep 0.05")
  end
  local rest = h:finish()
  error("pktinfo did not start listening: " .. rest.err .. rest.out, 2)
end

--- Reads one line of its standard output (nil at the end).
function handle:line()
  local l = self.pipe:read("*l")
  if l and l:match("^__rc=%d+$") then
    self.code = tonumber(l:match("%d+"))
    return nil
  end
  if l then self.lines[#self.lines + 1] = l end
  return l
end

--- Waits for its end; returns { out =, err =, code =, lines = }.
function handle:finish()
  while self:line() do end
  self.pipe:close()
  local r = { out = table.concat(self.lines, "\n"), err = slurp(self.err), code = self.code,
              lines = self.lines }
  os.remove(self.err)
  return r
end

------------------------------------------------------------------------
-- The network

local rig = {}
rig.__index = rig

--- The id of this process, for unique names.
local function pid()
  local s = slurp("/proc/self/stat")
  return s:match("^(%d+)") or tostring(os.time() % 100000)
end

--- Builds the two namespaces; raises (after removing them) on failure.
function cli.up()
  math.randomseed(os.time() + tonumber(pid()))
  local tag = pid() .. "-" .. math.random(100000, 999999)
  local r = setmetatable({ server = "pkcli-" .. tag .. "-s", client = "pkcli-" .. tag .. "-c" }, rig)
  local ok, err = pcall(rig.build, r)
  if not ok then r:down(); error(err, 2) end
  return r
end

--- Creates the namespaces, links, addresses and routes.
function rig:build()
  local S, C = self.server, self.client
  for _, ns in ipairs { S, C } do
    must("ip netns add " .. ns)
    self.made = (self.made or 0) + 1
    -- No duplicate address detection: addresses are usable at once.
    must("ip netns exec " .. ns .. " sh -c 'for c in all default; do " ..
         "echo 0 > /proc/sys/net/ipv6/conf/$c/accept_dad; done'")
    must("ip -n " .. ns .. " link set lo up")
  end
  must(("ip link add sa netns %s type veth peer name ca netns %s"):format(S, C))
  must(("ip link add sb netns %s type veth peer name cb netns %s"):format(S, C))
  local plan = {
    "S addr add 198.51.100.1/24 dev sa", "S -6 addr add 2001:db8:a::1/64 dev sa nodad",
    "S addr add 203.0.113.1/24 dev sb", "S -6 addr add 2001:db8:b::1/64 dev sb nodad",
    "S addr add 192.0.2.1/32 dev lo", "S -6 addr add 2001:db8:1::1/128 dev lo",
    "S link set sa up", "S link set sb up",
    "C addr add 198.51.100.2/24 dev ca", "C -6 addr add 2001:db8:a::2/64 dev ca nodad",
    "C addr add 203.0.113.2/24 dev cb", "C -6 addr add 2001:db8:b::2/64 dev cb nodad",
    "C link set ca up", "C link set cb up",
    "C route add 192.0.2.1/32 via 198.51.100.1 dev ca",
    "C route add 198.51.100.1/32 via 203.0.113.1 dev cb",
    "C -6 route add 2001:db8:1::1/128 via 2001:db8:a::1 dev ca",
    "C -6 route add 2001:db8:a::1/128 via 2001:db8:b::1 dev cb",
  }
  for _, line in ipairs(plan) do
    local ns, rest = line:match("^(%u) (.*)$")
    must("ip -n " .. (ns == "S" and S or C) .. " " .. rest)
  end
  self.ifindex = {}
  for _, p in ipairs { { S, "sa" }, { S, "sb" }, { S, "lo" }, { C, "ca" }, { C, "cb" } } do
    self.ifindex[p[2]] = tonumber(must(("ip -n %s -o link show dev %s"):format(p[1], p[2])):match("^(%d+):"))
  end
  self.ll = {}
  for _ = 1, 50 do
    for _, p in ipairs { { S, "sa" }, { S, "sb" }, { C, "ca" }, { C, "cb" } } do
      self.ll[p[2]] = self.ll[p[2]] or must(("ip -n %s -6 -o addr show dev %s scope link"):format(p[1], p[2]))
        :match("inet6 (fe80:[%x:]+)/")
    end
    if self.ll.sa and self.ll.sb and self.ll.ca and self.ll.cb then break end
    os.execute("sleep 0.1")
  end
end

--- Ends the processes left in the namespaces (by their ids) and deletes
-- the namespaces; safe twice.
function rig:down()
  if not self.made then return end
  for _, ns in ipairs { self.server, self.client } do
    for id in read("ip netns pids " .. ns):gmatch("%d+") do os.execute("kill " .. id .. " 2>/dev/null") end
    os.execute("ip netns del " .. ns .. " >/dev/null 2>&1")
  end
  self.made = nil
end

--- Runs pktinfo in the server ("s") or client ("c") namespace.
function rig:run(side, args, opts)
  opts = opts or {}
  opts.ns = side == "s" and self.server or self.client
  return cli.run(args, opts)
end

--- Starts pktinfo in the server or client namespace (see cli.spawn).
function rig:spawn(side, args)
  return cli.spawn(side == "s" and self.server or self.client, args)
end

--- Runs a shell command in the server or client namespace; its output.
function rig:sh(side, cmd)
  return must("ip netns exec " .. (side == "s" and self.server or self.client) .. " " .. cmd)
end

return cli
