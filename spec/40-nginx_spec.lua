-- lua-pktinfo inside a real nginx worker (OpenResty's deployment): LuaJIT,
-- the module loaded through lua_package_cpath, a UDP socket drained with
-- settimeout(0) + recvmany from an ngx.timer.every callback, the last
-- datagram's packet info served over HTTP. Helpers: spec/nginx/.
local pktinfo = require "pktinfo"
local server = require "nginx.server"

describe("in nginx (lua-nginx-module, LuaJIT)", function()
  local why = server.gate()
  local srv

  setup(function()
    if not why then srv = server.start() end
  end)

  teardown(function()
    if srv then server.stop(srv) end
  end)

  -- Sends data to addr from a fresh socket, waits (bounded) for the worker
  -- to have seen it, returns the worker's report and the reply received.
  local function exchange(addr, data)
    local c = assert(pktinfo.udp(addr:find(":", 1, true) and "inet6" or "inet"))
    c:settimeout(10)
    assert(c:sendto(data, addr, srv.udp_port))
    local reply, rinfo = c:recv()
    c:close()
    local report = server.wait(function()
      local r = server.report(srv)
      return r and r.data == data and r
    end, 10)
    return report, reply, rinfo
  end

  it("starts with the module loaded in a worker running LuaJIT", function()
    if why then pending(why) return end
    local r = server.wait(function() return server.report(srv) end, 10)
    assert.is_table(r, "no answer on /last:\n" .. server.log(srv))
    assert.matches("^LuaJIT", r.lua)
    assert.is_nil(r.error)
    assert.matches("pkdrain: listening on " .. srv.udp_port, server.log(srv), 1, true)
  end)

  it("runs its workers as nobody when started by root", function()
    if why then pending(why) return end
    if require("helpers.gate").root("nginx user directive") then
      pending("not root: nginx keeps the caller's user") return
    end
    local uids = server.worker_uids(srv)
    assert.is_true(#uids >= 1, "no worker found")
    for _, uid in ipairs(uids) do assert.equal(65534, uid) end
  end)

  it("reports the destination address and interface of each datagram", function()
    if why then pending(why) return end
    local lo = tostring(pktinfo.ifindex("lo"))
    for i, addr in ipairs { "127.0.0.1", "127.0.0.2", "127.0.0.1" } do
      local data = "ping " .. i .. " to " .. addr
      local r, reply, rinfo = exchange(addr, data)
      assert.is_table(r, "worker never saw " .. data .. ":\n" .. server.log(srv))
      assert.equal(addr, r.addr)
      assert.equal(lo, r.ifindex)
      assert.equal("127.0.0.1", r.from)
      assert.equal("inet", r.family)
      -- the worker replied with sock:reply: from the address asked
      assert.equal("ack " .. data, reply)
      assert.equal(addr, rinfo.from)
    end
    assert.is_nil(server.report(srv).error)
  end)

  it("reports IPv6 datagrams on the same dual-stack socket", function()
    if why then pending(why) return end
    local no6 = require("helpers.gate").ipv6()
    if no6 then pending(no6) return end
    local r, reply, rinfo = exchange("::1", "ping over IPv6")
    assert.is_table(r, "worker never saw the IPv6 datagram:\n" .. server.log(srv))
    assert.same({ "::1", "::1", "inet6", tostring(pktinfo.ifindex("lo")) },
      { r.addr, r.from, r.family, r.ifindex })
    assert.equal("ack ping over IPv6", reply)
    assert.equal("::1", rinfo.from)
  end)

  it("drains a burst without blocking the worker", function()
    if why then pending(why) return end
    local before = tonumber(server.report(srv).count)
    local c = assert(pktinfo.udp())
    for i = 1, 50 do assert(c:sendto("burst " .. i, "127.0.0.2", srv.udp_port)) end
    c:close()
    local r = server.wait(function()
      local t = server.report(srv)
      return t and tonumber(t.count) >= before + 50 and t
    end, 10)
    assert.is_table(r, "the worker did not drain the burst")
    assert.equal("burst 50", r.data)
    assert.equal("127.0.0.2", r.addr)
  end)

  it("stops by its pid", function()
    if why then pending(why) return end
    local pid = srv.pid
    assert.is_number(pid)
    server.stop(srv)
    assert.is_false(os.execute("kill -0 " .. pid .. " 2>/dev/null") == true)
    srv = nil
  end)
end)

describe("examples/nginx.conf", function()
  local why = server.gate()

  it("runs as shipped and serves the last datagram's packet info", function()
    if why then pending(why) return end
    local srv = server.start(server.example_conf)
    local ok, err = pcall(function()
      -- nginx returns before its worker has run init_worker (and bound the
      -- UDP socket); once the worker answers HTTP it has
      assert.is_string(server.wait(function() return server.get(srv, "/last") end, 10),
        "the worker never answered:\n" .. server.log(srv))
      local c = assert(pktinfo.udp())
      c:settimeout(10)
      assert(c:sendto("hello example", "127.0.0.2", srv.udp_port))
      assert.equal("ack hello example", (c:recv()))
      c:close()
      local body = server.wait(function()
        local b = server.get(srv, "/last")
        return b and b:find("-> 127.0.0.2", 1, true) and b
      end, 10)
      assert.is_string(body, "no packet info on /last:\n" .. server.log(srv))
      assert.matches("^127%.0%.0%.1:%d+ %-> 127%.0%.0%.2 on lo %(ifindex %d+%)", body)
    end)
    server.stop(srv)
    assert(ok, err)
  end)
end)
