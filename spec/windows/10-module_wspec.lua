-- The module loads on Windows with Winsock started by itself, and exports
-- the Windows option values.
local H = require "windows.helper"
local pktinfo = H.pktinfo

describe("module on Windows", function()
  it("starts Winsock itself: a socket works right after require (no WSANOTINITIALISED)", function()
    local s, err, name = pktinfo.udp()
    assert.is_nil(name, err)
    assert.truthy(s)
    assert.is_true(s:bind("127.0.0.1", 0))
    s:close()
  end)

  it("is what starts Winsock: in a fresh process socket() fails with WSANOTINITIALISED until require", function()
    -- This process started Winsock long ago (the helper requires pktinfo),
    -- so a fresh lua.exe runs the check: a probe loaded from wintest.dll
    -- without its luaopen (which would start Winsock) calls socket()
    -- before and after require "pktinfo".
    local lua = arg and arg[-1]
    local dll
    for template in package.cpath:gmatch("[^;]+") do
      local path = template:gsub("%?", "wintest")
      local f = not dll and io.open(path, "rb")
      if f then f:close(); dll = path end
    end
    if not (lua and dll) or lua:find(" ", 1, true) then
      pending("needs lua.exe's and wintest.dll's paths (without spaces)")
    end
    local child = lua:gsub("[^\\/]*$", "") .. "wsanotinit_child.lua"
    local f = assert(io.open(child, "w"))
    f:write(([[
      local probe = assert(package.loadlib(%q, "wintest_socket_error"))
      local before = probe()
      local p = require "pktinfo"
      local after = probe()
      local s = p.udp()
      print("BEFORE=" .. before .. " AFTER=" .. after .. " BIND=" .. tostring(s and s:bind("127.0.0.1", 0)))
    ]]):format(dll))
    f:close()
    local pipe = assert(io.popen(lua .. " " .. child .. " 2>&1"))
    local out = pipe:read("*a")
    pipe:close()
    os.remove(child)
    assert.matches("BEFORE=10093 AFTER=0 BIND=true", out, 1, true)   -- 10093: WSANOTINITIALISED
  end)

  it("exports option value 19 for IP_PKTINFO and IPV6_PKTINFO", function()
    assert.equal(19, pktinfo.IP_PKTINFO)
    assert.equal(19, pktinfo.IPV6_PKTINFO)
    assert.equal("string", type(pktinfo._VERSION))
  end)

  it("maps interface indexes and names both ways (iphlpapi)", function()
    local r, port, s = H.pair("inet")
    s:sendto("x", "127.0.0.1", port)
    local _, info = r:recv()
    assert.truthy(info.ifindex)
    local name = assert(pktinfo.ifname(info.ifindex))
    assert.equal(info.ifindex, pktinfo.ifindex(name))
    local _, _, errname = pktinfo.ifindex("no-such-interface-xyz")
    assert.equal("ENODEV", errname)
    r:close(); s:close()
  end)

  it("describes sockets with __tostring", function()
    local s = pktinfo.udp("inet6")
    assert.matches("^pktinfo%.udp %(inet6, fd %d+%)$", tostring(s))
    s:close()
    assert.equal("pktinfo.udp (closed)", tostring(s))
  end)

  it("refuses host names (no DNS lookups)", function()
    local s = pktinfo.udp()
    assert.has_error(function() s:sendto("x", "localhost", 9) end)
    s:close()
  end)
end)
