-- bin/pktinfo between two network namespaces (spec/helpers/cli_rig.lua:
-- a server with two links and a service address on its loopback, a client
-- routed to all of them, link A's address over link B). Every command runs
-- as a subprocess, as a user would type it. Needs root and namespaces;
-- pending with the reason otherwise.
local gate = require "helpers.gate"
local cli = require "helpers.cli_rig"

local cjson_ok, cjson = pcall(require, "cjson")

--- A Lua pattern matching the text s literally.
local function lit(s)
  return (tostring(s):gsub("%p", "%%%0"))
end

--- "addr:port" as the command prints it.
local function hp(addr, port)
  return (addr:find(":", 1, true) and "[" .. addr .. "]" or addr) .. ":" .. port
end

describe("pktinfo between namespaces", function()
  local r
  local why = gate.netns()

  setup(function()
    if not why then r = cli.up() end
  end)

  teardown(function()
    if r then r:down() end
  end)

  local function need()
    if why then pending(why) end
  end

  -- Each server address, the link a datagram to it arrives on, and the
  -- client's address it comes from (the client's route picks the link).
  local targets = {
    { "192.0.2.1", "sa", "198.51.100.2" },        -- service address, over link A
    { "203.0.113.1", "sb", "203.0.113.2" },       -- link B's address, over B
    { "198.51.100.1", "sb", "203.0.113.2" },      -- link A's address, arriving over B
    { "2001:db8:1::1", "sa", "2001:db8:a::2" },
    { "2001:db8:b::1", "sb", "2001:db8:b::2" },
    { "2001:db8:a::1", "sb", "2001:db8:b::2" },
    { "LL_SA", "sa", "LL_CA" },                  -- link-local, filled in below
  }

  --- The target list with link-local addresses filled in.
  local function resolved()
    local out = {}
    for i, t in ipairs(targets) do
      out[i] = { t[1] == "LL_SA" and r.ll.sa .. "%ca" or t[1], t[2], t[3] == "LL_CA" and r.ll.ca .. "%sa" or t[3] }
    end
    return out
  end

  it("echo answers send --wait from exactly each address asked, naming it and its link", function()
    need()
    local list = resolved()
    local server = r:spawn("s", { "echo", "--ttl", "--count", tostring(#list), "0" })
    assert.matches("^listening on %[::%]:%d+ %(IPv4 and IPv6%)\n$", cli.slurp(server.err))
    for _, t in ipairs(list) do
      local dst, link, client = t[1], t[2], t[3]
      local res = r:run("c", { "send", "--wait", "5", dst, tostring(server.port), "who am I?" })
      assert.equal(0, res.code, res.err .. res.out)
      assert.equal("", res.err)
      local lines = {}
      for l in res.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal(3, #lines, res.out)
      local cport = assert(lines[1]:match("^sent 9 bytes to " .. lit(hp(dst, server.port)) .. " from port (%d+)$"),
        lines[1])
      -- The answer comes from the address asked (no "not from" note)...
      assert.matches("^answer %d%d:%d%d:%d%d " .. lit(hp(dst, server.port)) .. " %-> " .. lit(client:gsub("%%sa$", "%%ca"))
        .. " on c" .. link:sub(2) .. " %(ifindex " .. r.ifindex["c" .. link:sub(2)] .. "%), %d+ bytes$", lines[2])
      -- ...and says where the request went: that address, on the link it took.
      assert.equal("  " .. hp(client, cport) .. " -> " .. dst:gsub("%%ca$", "%%sa") .. " on " .. link
        .. " (ifindex " .. r.ifindex[link] .. "), 9 bytes, ttl 64", lines[3])
    end
    local done = server:finish()
    assert.equal(0, done.code, done.err)
    assert.equal(#list, #done.lines, done.out)
    for i, t in ipairs(list) do
      assert.matches(" %-> " .. lit(t[1]:gsub("%%ca$", "%%sa")) .. " on " .. t[2] .. " ", done.lines[i])
    end
  end)

  it("send --wait says when the answer did not come from the address asked", function()
    need()
    -- A server that ignores packet info: the kernel picks the source of its
    -- answer (sa's 198.51.100.1 toward the client), not 192.0.2.1.
    local code = [[
      local p = require "pktinfo"
      local s = assert(p.udp("inet", { timeout = 10 }))
      assert(s:bind("*", 0))
      local _, port = s:getsockname()
      io.stderr:write("listening on 0.0.0.0:", port, "\n")
      local data, info = assert(s:recv())
      assert(s:sendto("plain " .. data, info.from, info.port))]]
    local file, err = os.tmpname(), os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write(code)
    f:close()
    local pipe = assert(io.popen(("timeout 30 ip netns exec %s %s %s %s 2>%s"):format(r.server,
      cli.env(), cli.lua, file, err)))
    local port
    for _ = 1, 200 do
      port = cli.slurp(err):match("listening on %S-:(%d+)")
      if port then break end
      os.execute("sleep 0.05")
    end
    assert.truthy(port, cli.slurp(err))
    local res = r:run("c", { "send", "--wait", "5", "192.0.2.1", port, "x" })
    pipe:read("*a")
    pipe:close()
    os.remove(file); os.remove(err)
    assert.equal(0, res.code, res.err)
    assert.matches("\nanswer %S+ 198%.51%.100%.1:" .. port .. " %-> 198%.51%.100%.2 on ca %(ifindex %d+%), 7 bytes"
      .. " %(not from 192%.0%.2%.1, the address asked%)\n  plain x\n$", res.out)
  end)

  it("listen --json gives exactly the info-table fields, each equal to what was sent", function()
    need()
    if not cjson_ok then pending("needs lua-cjson (Debian lua-cjson)") end
    local server = r:spawn("s", { "listen", "--json", "--all", "--size", "16", "--count", "5", "0" })
    local P = tostring(server.port)
    local t0 = os.time()
    -- { send arguments, expected fields (port filled in from send's output) }
    local cases = {
      { { "--ttl", "7", "--tos", "0xba", "192.0.2.1", P, "abc" },
        { family = "inet", from = "198.51.100.2", addr = "192.0.2.1", spec_dst = "192.0.2.1",
          ifindex = r.ifindex.sa, truncated = false, ttl = 7, tos = 0xba, ecn = 2, dropped = 0 } },
      { { "--ttl", "9", "--tos", "3", "2001:db8:b::1", P },
        { family = "inet6", from = "2001:db8:b::2", addr = "2001:db8:b::1",
          ifindex = r.ifindex.sb, truncated = false, ttl = 9, tos = 3, ecn = 3, dropped = 0 } },
      -- --from and --dev: out of link A to link B's address (the client
      -- takes the address as on-link there), from the client's A address
      { { "--from", "198.51.100.2", "--dev", "ca", "203.0.113.1", P },
        { family = "inet", from = "198.51.100.2", addr = "203.0.113.1", spec_dst = "203.0.113.1",
          ifindex = r.ifindex.sa, truncated = false, ttl = 64, tos = 0, ecn = 0, dropped = 0 } },
      -- --dev gives a link-local destination without %scope its link
      { { "--dev", "cb", r.ll.sb, P },
        { family = "inet6", from = r.ll.cb .. "%sb", addr = r.ll.sb .. "%sb",
          ifindex = r.ifindex.sb, truncated = false, ttl = 64, tos = 0, ecn = 0, dropped = 0 } },
      -- longer than --size 16
      { { "198.51.100.1", P, ("x"):rep(40) },
        { family = "inet", from = "203.0.113.2", addr = "198.51.100.1", spec_dst = "198.51.100.1",
          ifindex = r.ifindex.sb, truncated = true, ttl = 64, tos = 0, ecn = 0, dropped = 0 } },
    }
    for _, c in ipairs(cases) do
      local res = r:run("c", { "send", (table.unpack or unpack)(c[1]) })
      assert.equal(0, res.code, res.err)
      c[2].port = tonumber((assert(res.out:match(" port (%d+)\n$"), res.out)))
    end
    local done = server:finish()
    local t1 = os.time()
    assert.equal(0, done.code, done.err)
    assert.equal(#cases, #done.lines, done.out)
    for i, c in ipairs(cases) do
      local got = cjson.decode(done.lines[i])
      local want = c[2]
      assert.is_number(got.time, done.lines[i])
      assert.is_true(got.time >= t0 - 1 and got.time <= t1 + 1, done.lines[i])
      got.time = nil
      for k, v in pairs(want) do assert.equal(v, got[k], k .. " in " .. done.lines[i]) end
      for k in pairs(got) do assert.is_not_nil(want[k], "unexpected field " .. k .. " in " .. done.lines[i]) end
    end
  end)

  it("listen --json keeps every digit of the kernel receive time (17 significant, not lua-cjson's 14)", function()
    need()
    if not cjson_ok then pending("needs lua-cjson (Debian lua-cjson)") end
    local server = r:spawn("s", { "listen", "--json", "--time", "--count", "1", "0" })
    r:run("c", { "send", "192.0.2.1", tostring(server.port) })
    local line = server:finish().lines[1]
    local text = assert(line:match('"time":([%d.e+]+)'), line)
    -- %.17g drops trailing zeros, so the digits after the point may be
    -- fewer than 7; a time cut to 14 digits (0.1 ms) never reads back as
    -- its own %.17g text, a whole one always does.
    assert.equal(("%.17g"):format(tonumber(text)), text)
    assert.equal(tonumber(text), cjson.decode(line).time)
  end)

  it("multicast: listen --join a group on both links reports the link of each datagram", function()
    need()
    if not cjson_ok then pending("needs lua-cjson (Debian lua-cjson)") end
    local server = r:spawn("s", { "listen", "--json", "--count", "4",
      "--join", "239.1.2.3%sa", "--join", "239.1.2.3%" .. r.ifindex.sb,
      "--join", "ff15::1:7%sa", "--join", "ff15::1:7%sb", "0" })
    assert.matches("joined 239%.1%.2%.3%%sa 239%.1%.2%.3%%" .. r.ifindex.sb, cli.slurp(server.err))
    local P = tostring(server.port)
    local sends = {
      { "ca", "239.1.2.3", "sa", "198.51.100.2", "198.51.100.1" },
      { "cb", "239.1.2.3", "sb", "203.0.113.2", "203.0.113.1" },
      { "ca", "ff15::1:7", "sa", "2001:db8:a::2" },
      { "cb", "ff15::1:7", "sb", "2001:db8:b::2" },
    }
    for _, s in ipairs(sends) do
      local res = r:run("c", { "send", "--dev", s[1], s[2], P, "mc" })
      assert.equal(0, res.code, res.err)
    end
    local done = server:finish()
    assert.equal(0, done.code, done.err)
    assert.equal(#sends, #done.lines, done.out)
    for i, s in ipairs(sends) do
      local got = cjson.decode(done.lines[i])
      assert.equal(s[2], got.addr, done.lines[i])
      assert.equal(r.ifindex[s[3]], got.ifindex, done.lines[i])
      assert.equal(s[4], got.from, done.lines[i])
      assert.equal(s[5], got.spec_dst, done.lines[i])     -- nil for IPv6
    end
  end)

  it("multicast: echo answers from the arrival link's own address, never the group", function()
    need()
    local server = r:spawn("s", { "echo", "--count", "4",
      "--join", "239.1.2.3%sa", "--join", "239.1.2.3%sb", "--join", "ff15::1:7%sa", "--join", "ff15::1:7%sb", "0" })
    local P = tostring(server.port)
    local cases = {
      { "ca", "239.1.2.3", "sa", { ["198.51.100.1"] = true } },
      { "cb", "239.1.2.3", "sb", { ["203.0.113.1"] = true } },
      { "ca", "ff15::1:7", "sa", { ["2001:db8:a::1"] = true, [r.ll.sa .. "%ca"] = true } },
      { "cb", "ff15::1:7", "sb", { ["2001:db8:b::1"] = true, [r.ll.sb .. "%cb"] = true } },
    }
    for _, c in ipairs(cases) do
      local res = r:run("c", { "send", "--dev", c[1], "--wait", "5", c[2], P })
      assert.equal(0, res.code, res.err)
      local from = res.out:match("\nanswer %S+ %[?([^%]]-)%]?:" .. P .. " %-> ")
      assert.is_true(c[4][from] == true, "answer from " .. tostring(from) .. ":\n" .. res.out)
      assert.matches("\n  %S+ %-> " .. lit(c[2]) .. " on " .. c[3] .. " %(ifindex " .. r.ifindex[c[3]] .. "%)", res.out)
      assert.is_nil(res.out:find("not from", 1, true), res.out)
    end
    assert.equal(0, server:finish().code)
  end)

  it("bind to an address the host does not have: EADDRNOTAVAIL, one line, exit 1", function()
    need()
    local res = r:run("s", { "listen", "192.0.2.77", "5300" })
    assert.equal(1, res.code)
    assert.equal("pktinfo: bind 192.0.2.77:5300: Cannot assign requested address (EADDRNOTAVAIL)\n", res.err)
    assert.equal("", res.out)
  end)

  it("a privileged port as an unprivileged user (nobody): EACCES, one line, exit 1", function()
    need()
    if gate.command("setpriv") then pending(gate.command("setpriv") .. " (util-linux)") end
    -- Ports below this need CAP_NET_BIND_SERVICE; it is per namespace.
    r:sh("s", "sh -c 'echo 1024 > /proc/sys/net/ipv4/ip_unprivileged_port_start'")
    -- A copy nobody can read (the checkout may be under a 0700 /root).
    local dir = cli.must("mktemp -d /tmp/pkcli.XXXXXX"):gsub("%s+$", "")
    local files = { lua = dir .. "/lua", build = dir .. "/build", bin = dir .. "/bin" }
    cli.must(("mkdir -p %s/pktinfo %s %s && cp lua/pktinfo.lua %s/ && cp %s/pktinfo/core.so %s/pktinfo/ "
      .. "&& cp bin/pktinfo %s/ && chmod -R a+rX %s"):format(files.build, files.lua, files.bin, files.lua,
      cli.build, files.build, files.bin, dir))
    local as_nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all"
    -- The interpreter itself must be reachable by nobody (not so for the
    -- ASan wrapper in a checkout under /root): then drop only the capability.
    local reach = os.execute(("ip netns exec %s %s sh -c %s >/dev/null 2>&1"):format(r.server, as_nobody,
      cli.quote("command -v " .. cli.lua)))
    if not (reach == true or reach == 0) then
      as_nobody = "setpriv --inh-caps=-all --bounding-set=-net_bind_service"
    end
    local res = r:run("s", { "listen", "53" }, { prefix = as_nobody, dir = files })
    local ok_hi = r:run("s", { "listen", "--timeout", "0.1", "-q", "1024" }, { prefix = as_nobody, dir = files })
    cli.must("rm -rf " .. dir)
    assert.equal("pktinfo: bind [::]:53: Permission denied (EACCES)\n", res.err)
    assert.equal(1, res.code)
    assert.equal("", res.out)
    -- control: the same user may bind 1024
    assert.equal(0, ok_hi.code, ok_hi.err)
  end)

  it("ifaces lists each interface with its index, name, state and addresses (needs pktinfo.interfaces)", function()
    need()
    local res = r:run("s", { "ifaces" })
    assert.equal(0, res.code, res.err)
    local seen = {}
    for line in res.out:gmatch("[^\n]+") do
      local idx, name, state, addrs = line:match("^%s*(%d+)%s+(%S+)%s+(%S+)%s*(.*)$")
      assert.truthy(idx, line)
      seen[name] = { index = tonumber(idx), state = state, addrs = " " .. addrs .. " " }
    end
    for _, name in ipairs { "lo", "sa", "sb" } do
      assert.is_table(seen[name], res.out)
      assert.equal(r.ifindex[name], seen[name].index)
      assert.equal("up", seen[name].state)
    end
    for name, list in pairs { sa = { "198.51.100.1/24", "2001:db8:a::1/64", r.ll.sa .. "%sa/64" },
                              sb = { "203.0.113.1/24", "2001:db8:b::1/64", r.ll.sb .. "%sb/64" },
                              lo = { "127.0.0.1/8", "192.0.2.1/32", "::1/128", "2001:db8:1::1/128" } } do
      for _, a in ipairs(list) do assert.matches(" " .. lit(a) .. " ", seen[name].addrs) end
    end
    local v4 = r:run("s", { "ifaces", "-4" })
    assert.equal(0, v4.code, v4.err)
    assert.is_nil(v4.out:find("2001:db8", 1, true), v4.out)
    assert.matches(" 198%.51%.100%.1/24", v4.out)
  end)
end)
