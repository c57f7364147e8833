-- The release: one version everywhere (module, rockspec, changelog), the
-- versioned rockspec builds what the scm one builds, `make rock` gives a
-- source rock that installs into an empty tree with no rock servers (and
-- no download), whose `pktinfo` command and `require "pktinfo"` work from
-- that tree alone; `make install` installs the command too.
local pktinfo = require "pktinfo"
local cli = require "helpers.cli_rig"

local VERSION = "0.2.0"

--- Runs a shell command; ok, output (stdout and stderr).
local function run(cmd)
  local f = assert(io.popen("{ " .. cmd .. "; } 2>&1; echo \"__rc=$?\""))
  local out = f:read("*a")
  f:close()
  local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
  return rc == "0", body or out
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

--- A rockspec as a table (it is Lua: loaded in an empty environment).
local function rockspec(path)
  local env = {}
  local chunk = assert(loadfile(path, "t", env))
  if setfenv then setfenv(chunk, env) end
  chunk()
  return env
end

--- Deep equality of plain tables.
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local lua_version = _VERSION:match("%d+%.%d+")
local incdir = jit and "/usr/include/luajit-2.1" or "/usr/include/lua" .. lua_version
local lua_name = os.getenv("LUA") or "lua5.4"

describe("release " .. VERSION, function()
  it("is the module's _VERSION, the C define and --version", function()
    assert.equal(VERSION, pktinfo._VERSION)
    local src = cli.slurp("src/lpktinfo.c")
    assert.equal(VERSION, src:match('#define PK_VERSION "([^"]+)"'))
    assert.matches("^pktinfo " .. VERSION:gsub("%.", "%%.") .. " ", cli.run({ "--version" }).out)
  end)

  it("CHANGELOG.md: newest first, one section per version, this one on top with what to change", function()
    local text = cli.slurp("CHANGELOG.md")
    local versions = {}
    for v in text:gmatch("\n## (%d+%.%d+%.%d+)") do versions[#versions + 1] = v end
    assert.equal(VERSION, versions[1])
    local seen = {}
    for i, v in ipairs(versions) do
      assert.is_nil(seen[v], "two sections for " .. v)
      seen[v] = true
      if i > 1 then
        local a, b = { versions[i - 1]:match("(%d+)%.(%d+)%.(%d+)") }, { v:match("(%d+)%.(%d+)%.(%d+)") }
        local newer = false
        for k = 1, 3 do
          if tonumber(a[k]) ~= tonumber(b[k]) then newer = tonumber(a[k]) > tonumber(b[k]) break end
        end
        assert.is_true(newer, versions[i - 1] .. " must come before " .. v)
      end
    end
    assert.truthy(seen["0.1.0"])
    local this = text:match("\n## " .. VERSION:gsub("%.", "%%.") .. "\n(.-)\n## ")
    assert.matches("### Upgrading from 0%.1%.0", this)
  end)

  it("rockspec/lua-pktinfo-" .. VERSION .. "-1.rockspec builds what the scm one does, and the command", function()
    local rel = rockspec("rockspec/lua-pktinfo-" .. VERSION .. "-1.rockspec")
    local scm = rockspec("rockspec/lua-pktinfo-scm-1.rockspec")
    assert.equal(VERSION .. "-1", rel.version)
    assert.equal(scm.package, rel.package)
    assert.is_true(same(scm.build, rel.build), "the build tables differ")
    assert.equal("bin/pktinfo", rel.build.install.bin.pktinfo)
    local deps = {}
    for _, d in ipairs(rel.dependencies) do deps[d:match("^(%S+)")] = true end
    assert.is_true(deps.argparse and deps["lua-cjson"] and deps.lua, table.concat(rel.dependencies, ", "))
    assert.matches("lua%-pktinfo%-" .. VERSION:gsub("%.", "%%.") .. "%.tar%.gz$", rel.source.url)
    assert.equal("lua-pktinfo-" .. VERSION, rel.source.dir)
  end)

  it("make rock refuses a version that has no rockspec", function()
    local dir = assert(io.popen("mktemp -d /tmp/pkcli-rock.XXXXXX")):read("*l")
    local ok, out = run("make -s --no-print-directory rock ROCK_VERSION=9.9.9 ROCK_DIR=" .. dir)
    os.execute("rm -rf " .. dir)
    assert.is_false(ok, out)
    assert.matches("no rockspec/lua%-pktinfo%-9%.9%.9%-1%.rockspec", out)
  end)
end)

describe("make rock", function()
  local why
  if not run("command -v luarocks >/dev/null") then why = "needs luarocks (Debian luarocks)"
  elseif not exists(incdir .. "/lua.h") then why = "needs the Lua headers in " .. incdir
  elseif not (pcall(require, "argparse") and pcall(require, "cjson")) then
    why = "needs lua-argparse and lua-cjson (Debian), which the rock's command uses"
  end
  local dir

  setup(function()
    if why then return end
    dir = assert(io.popen("mktemp -d /tmp/pkcli-rock.XXXXXX")):read("*l")
  end)

  teardown(function()
    if dir and dir:match("^/tmp/pkcli%-rock%.") then os.execute("rm -rf " .. dir) end
  end)

  local rock = function() return dir .. "/out/lua-pktinfo-" .. VERSION .. "-1.src.rock" end

  it("builds a source rock holding the rockspec and the tarball of the tree", function()
    if why then pending(why) end
    local ok, out = run(("make -s --no-print-directory rock ROCK_DIR=%s/out LUA_VERSION=%s"):format(dir, lua_version))
    assert.is_true(ok, out)
    assert.is_true(exists(rock()), out)
    local _, list = run("unzip -Z1 " .. rock())
    assert.matches("lua%-pktinfo%-" .. VERSION:gsub("%.", "%%.") .. "%-1%.rockspec\n", list)
    assert.matches("lua%-pktinfo%-" .. VERSION:gsub("%.", "%%.") .. "%.tar%.gz\n", list)
    local _, files = run("tar -tzf " .. dir .. "/out/lua-pktinfo-" .. VERSION .. ".tar.gz")
    for _, f in ipairs { "bin/pktinfo", "lua/pktinfo.lua", "src/lpktinfo.c", "types/pktinfo.lua", "CHANGELOG.md" } do
      assert.matches("lua%-pktinfo%-" .. VERSION:gsub("%.", "%%.") .. "/" .. f:gsub("%p", "%%%0") .. "\n", files)
    end
    assert.is_nil(files:find("/build/", 1, true), files)
  end)

  it("installs into an empty tree with no rock servers; pktinfo and require work from it alone", function()
    if why then pending(why) end
    if not exists(rock()) then error("no rock: see the previous test") end
    -- The tarball next to the rock goes away: the rock must hold its source.
    os.remove(dir .. "/out/lua-pktinfo-" .. VERSION .. ".tar.gz")
    local tree = dir .. "/tree"
    -- argparse and lua-cjson come from Debian here: say so to LuaRocks.
    local cfg = assert(io.open(dir .. "/config.lua", "w"))
    cfg:write(("rocks_trees = { %q }\nrocks_servers = {}\nvariables = { LUA_INCDIR = %q }\n%s"):format(
      tree, incdir, 'rocks_provided = { argparse = "0.7.1-1", ["lua-cjson"] = "2.1.0-1" }\n'))
    cfg:close()
    local lr = ("HOME=%s LUAROCKS_CONFIG=%s/config.lua luarocks --lua-version=%s --tree=%s"):format(
      dir, dir, lua_version, tree)
    local ok, out = run(lr .. " install " .. rock())
    assert.is_true(ok, out)
    assert.is_true(exists(tree .. "/bin/pktinfo"), out)
    -- Only Debian's own directories besides the tree (for argparse and
    -- cjson): neither this checkout's build nor /usr/local.
    local v = lua_version
    local _, sys_cpath = run("env -u LUA_CPATH -u LUA_CPATH_5_" .. v:sub(3) .. " " .. cli.lua
      .. " -e 'io.write(package.cpath)'")
    local cpath = {}
    for p in sys_cpath:gmatch("[^;]+") do if p:match("^/usr/lib/") then cpath[#cpath + 1] = p end end
    local env = ("env LUA_PATH=%s LUA_CPATH=%s"):format(
      cli.quote(("/usr/share/lua/%s/?.lua;/usr/share/lua/%s/?/init.lua"):format(v, v)),
      cli.quote(table.concat(cpath, ";")))
    local help_ok, help = run(env .. " " .. tree .. "/bin/pktinfo --help")
    assert.is_true(help_ok, help)
    assert.matches("^Usage: pktinfo ", help)
    local ver_ok, ver = run(env .. " " .. tree .. "/bin/pktinfo --version")
    assert.is_true(ver_ok, ver)
    assert.matches("^pktinfo " .. VERSION:gsub("%.", "%%.") .. " ", ver)
    local l_ok, l_out = run(env .. " " .. tree .. "/bin/pktinfo listen -q --timeout 0.1 127.0.0.1 0")
    assert.is_true(l_ok, l_out)
    -- prints the version and the file pktinfo.core was found in (the first
    -- on package.cpath: the searcher's order, on every Lua version)
    local code = "local p = require 'pktinfo'; local s = assert(p.udp()); s:close(); local where = '?'; "
      .. "for t in package.cpath:gmatch('[^;]+') do local f = t:gsub('%?', 'pktinfo/core'); "
      .. "local h = io.open(f); if h then h:close(); where = f; break end end; io.write(p._VERSION, ' ', where)"
    local r_ok, r_out = run(("LUA_PATH=%s LUA_CPATH=%s %s -e %s"):format(
      cli.quote(tree .. "/share/lua/" .. v .. "/?.lua"), cli.quote(tree .. "/lib/lua/" .. v .. "/?.so"),
      cli.lua, cli.quote(code)))
    assert.is_true(r_ok, r_out)
    assert.equal(VERSION .. " " .. tree .. "/lib/lua/" .. v .. "/pktinfo/core.so", r_out)
  end)

  it("without argparse and lua-cjson provided, the install stops on the missing dependency", function()
    if why then pending(why) end
    if not exists(rock()) then error("no rock: see the first test") end
    local cfg = assert(io.open(dir .. "/bare.lua", "w"))
    cfg:write(("rocks_trees = { %q }\nrocks_servers = {}\nvariables = { LUA_INCDIR = %q }\n"):format(
      dir .. "/bare", incdir))
    cfg:close()
    local ok, out = run(("HOME=%s LUAROCKS_CONFIG=%s/bare.lua luarocks --lua-version=%s --tree=%s/bare install %s"):format(
      dir, dir, lua_version, dir, rock()))
    assert.is_false(ok, out)
    assert.matches("argparse", out)
  end)
end)

describe("make install", function()
  it("installs the module and the command, and the command runs from there", function()
    local dest = assert(io.popen("mktemp -d /tmp/pkcli-inst.XXXXXX")):read("*l")
    local build = os.getenv("PKTINFO_BUILD") or "build"
    local mk = ("make -s --no-print-directory DESTDIR=%s PREFIX=/usr/local BUILD=%s LUA=%s LUA_VERSION=%s"):format(
      dest, build, lua_name, lua_version)
    local ok, out = run(mk .. " install")
    local bin = dest .. "/usr/local/bin/pktinfo"
    local first = cli.slurp(bin):match("^[^\n]*")
    -- run by the interpreter under test, with no module path set: the
    -- command finds the module installed beside it
    local r_ok, r_out = run(("env -u LUA_PATH -u LUA_CPATH %s %s --version"):format(cli.lua, bin))
    local mode = io.popen("stat -c %a " .. bin):read("*l")
    local u_ok, u_out = run(mk .. " uninstall")
    local _, left = run("find " .. dest .. " -type f")
    os.execute("rm -rf " .. dest)
    assert.is_true(ok, out)
    assert.equal("#!/usr/bin/env " .. lua_name, first)
    assert.equal("755", mode)
    assert.is_true(r_ok, r_out)
    assert.matches("^pktinfo " .. VERSION:gsub("%.", "%%.") .. " ", r_out)
    assert.is_true(u_ok, u_out)
    assert.equal("", left)
  end)
end)
