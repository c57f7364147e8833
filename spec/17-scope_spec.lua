-- Link-local scope that does not go stale (README, "Choosing the source"):
-- the interface of a link-local sender is info.ifindex, never a name kept
-- in text. In network namespaces: a request arrives over s0, s0 is
-- renamed s9; the answer must still reach the client, the next request
-- must show the new name, and the old text's name must give nil, msg,
-- "ENODEV" rather than raise; then s9 is removed and a reply must give
-- nil, msg, errname, not raise (a server without pcall would die).
local gate = require "helpers.gate"
local rig = require "helpers.rig"
local net = require "helpers.net"

local LUA = net.lua()

describe("link-local scope (network namespaces)", function()
  local r

  setup(function()
    if not gate.netns() then r = rig.renaming() end
  end)

  teardown(function()
    rig.down(r)
  end)

  it("answers over the arrival interface after it was renamed, and errs once it is gone", function()
    local why = gate.netns()
    if why then pending(why) return end
    local port = 5700
    local log = rig.spawn(r.server, LUA, "spec/helpers/scope_server.lua", tostring(port), "READY", 30)
    local client = ([[
      local pktinfo = require "pktinfo"
      local c = assert(pktinfo.udp("inet6", { pktinfo = true }))
      c:settimeout(5)
      local to = "%s%%c0"
      assert(c:sendto("request 1", to, %d))
      local d, info = c:recv()
      print("GOT1=" .. tostring(d) .. " FROM=" .. tostring(info and info.from))
      assert(c:sendto("request 2", to, %d))
      c:settimeout(1)                  -- no answer: the server's link is gone
      d = c:recv()
      print("GOT2=" .. tostring(d))
    ]]):format(r.ll_s0, port, port)
    local cout = rig.run(r.client, ("%s -e %q"):format(LUA, client))
    local sout
    for _ = 1, 100 do
      local f = io.open(log); sout = f:read("*a"); f:close()
      if sout:find("DONE", 1, true) or sout:find("lua", 1, true) and sout:find("error", 1, true) then break end
      os.execute("sleep 0.1")
    end
    os.remove(log)
    local function field(out, key) return out:match(key .. "=([^\n]*)") end
    assert.equal(r.ll_c0 .. "%s0", field(sout, "FROM1"), sout)
    assert.equal(tostring(r.ifindex.s0), field(sout, "IFINDEX1"), sout)
    assert.equal("answer 1 FROM=" .. r.ll_s0 .. "%c0", field(cout, "GOT1"), cout .. sout)
    assert.matches("^8 ", field(sout, "REPLY1"), sout)              -- 8 bytes sent
    assert.equal("true nil No such device", field(sout, "SENDTO_OLD_TEXT"), sout)
    assert.equal(r.ll_c0 .. "%s9", field(sout, "FROM2"), sout)      -- the name now
    local ok, n, msg = field(sout, "REPLY2"):match("^(%S+) (%S+) (.*)$")
    assert.equal("true", ok, sout)                                   -- not raised
    assert.equal("nil", n, sout)
    assert.is_truthy(msg, sout)
  end)
end)
