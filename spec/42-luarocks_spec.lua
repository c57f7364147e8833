-- `luarocks make rockspec/lua-pktinfo-scm-1.rockspec` into a fresh local
-- tree (Debian luarocks, no rock servers: nothing is downloaded), then
-- `require "pktinfo"` from that tree alone, in a new process of the Lua
-- running the specs (5.1, 5.2, 5.3, 5.4, or LuaJIT with its own headers).
local net = require "helpers.net"

local ROCKSPEC = "rockspec/lua-pktinfo-scm-1.rockspec"

local function run(cmd)
  local f = assert(io.popen(cmd .. " 2>&1; echo \"exit=$?\""))
  local out = f:read("*a")
  f:close()
  return out:find("\nexit=0\n$") ~= nil or out:find("^exit=0\n$") ~= nil, out
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- The Lua version, the headers and the interpreter under test.
local version = _VERSION:match("%d+%.%d+")
local incdir = jit and "/usr/include/luajit-2.1" or "/usr/include/lua" .. version
local interp = net.lua()

local function gate()
  if not run("command -v luarocks >/dev/null") then return "needs luarocks (Debian luarocks)" end
  if not exists(incdir .. "/lua.h") then return "needs the Lua headers in " .. incdir end
  if not exists(ROCKSPEC) then return "no " .. ROCKSPEC end
end

-- The rockspec as a table (it is Lua: loaded in an empty environment).
local function load_rockspec()
  local env = {}
  local chunk = assert(loadfile(ROCKSPEC, "t", env))
  if setfenv then setfenv(chunk, env) end
  chunk()
  return env
end

-- A set of the words in text.
local function set(text)
  local t = {}
  for w in (text or ""):gmatch("%S+") do t[w] = true end
  return t
end

describe("the rockspec", function()
  it("lists the C files the Makefile builds (POSIX and Windows)", function()
    if not exists(ROCKSPEC) then pending("no " .. ROCKSPEC) return end
    local ok, out = run("make -s --no-print-directory print-sources")
    assert.is_true(ok, out)
    local spec = load_rockspec()
    local posix = spec.build.modules["pktinfo.core"].sources
    assert.same(set(out:match("posix:([^\n]*)")), set(table.concat(posix, " ")))
    local win = out:match("win32:([^\n]*)")
    if win and win:find("%S") then
      local w = spec.build.platforms.win32.modules["pktinfo.core"].sources
      assert.same(set(win), set(table.concat(w, " ")))
    end
  end)
end)

describe("LuaRocks", function()
  local why = gate()
  local tree

  setup(function()
    if why then return end
    local f = assert(io.popen("mktemp -d /tmp/pktinfo-rocks.XXXXXX"))
    tree = f:read("*l")
    f:close()
  end)

  teardown(function()
    if tree and tree:match("^/tmp/pktinfo%-rocks%.") then os.execute("rm -rf " .. tree) end
  end)

  it("builds and installs with luarocks make for " .. (jit and jit.version or _VERSION), function()
    if why then pending(why) return end
    -- A config of our own: this tree only, no rock servers, these headers.
    local cfg = assert(io.open(tree .. "/config.lua", "w"))
    cfg:write(string.format("rocks_trees = { %q }\nrocks_servers = {}\nvariables = { LUA_INCDIR = %q }\n",
      tree, incdir))
    cfg:close()
    local ok, out = run(string.format(
      "HOME=%s LUAROCKS_CONFIG=%s/config.lua luarocks --lua-version=%s --tree=%s make %s",
      tree, tree, version, tree, ROCKSPEC))
    assert.is_true(ok, out)
    assert.is_true(exists(tree .. "/lib/lua/" .. version .. "/pktinfo/core.so"), out)
    assert.is_true(exists(tree .. "/share/lua/" .. version .. "/pktinfo.lua"), out)
  end)

  it("loads from the installed tree and reports packet info", function()
    if why then pending(why) return end
    if not exists(tree .. "/lib/lua/" .. version .. "/pktinfo/core.so") then
      error("not installed: see the previous test")
    end
    local code = [[
      local p = require "pktinfo"
      local s = assert(p.udp("inet", { pktinfo = true }))
      assert(s:bind("*", 0)); s:settimeout(5)
      local _, port = s:getsockname()
      assert(p.udp():sendto("rock", "127.0.0.2", port))
      local data, info = assert(s:recv())
      assert(type(s.recvmany) == "function", "no recvmany")
      io.write(data, " ", info.addr, " ", p._VERSION, "\n")]]
    -- Only the tree on the paths (no ';;'): the module cannot come from elsewhere.
    local ok, out = run(string.format("LUA_PATH=%q LUA_CPATH=%q %s -e %q",
      tree .. "/share/lua/" .. version .. "/?.lua", tree .. "/lib/lua/" .. version .. "/?.so",
      interp, code))
    assert.is_true(ok, out)
    assert.matches("^rock 127%.0%.0%.2 ", out)
  end)
end)
