-- bin/pktinfo run as a subprocess, as a user would: --help on every
-- command, and for each bad input exactly one line on stderr
-- ("pktinfo: ..."), nothing on stdout, no Lua traceback, and the exit
-- status the README gives (2 a bad argument, 1 a refusal). Loopback only;
-- the namespace tests are in 61-cli_net_spec.lua.
local cli = require "helpers.cli_rig"
local pktinfo = require "pktinfo"

--- Checks one error run: one line matching `pattern`, exit `code`.
local function refused(r, code, pattern)
  local lines = {}
  for l in r.err:gmatch("[^\n]+") do lines[#lines + 1] = l end
  assert.equal(1, #lines, "stderr must be one line, got:\n" .. r.err)
  assert.matches("^pktinfo: ", lines[1])
  assert.matches(pattern, lines[1])
  assert.is_nil(r.err:find("traceback", 1, true), r.err)
  assert.is_nil(r.err:find("%.lua:%d+:"), r.err)
  assert.equal("", r.out)
  assert.equal(code, r.code, r.err)
end

describe("pktinfo --help", function()
  for _, cmd in ipairs { "", "listen", "echo", "send", "ifaces" } do
    it("on " .. (cmd == "" and "the command itself" or cmd) .. " prints its usage and exits 0", function()
      local args = cmd == "" and { "--help" } or { cmd, "--help" }
      local r = cli.run(args)
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
      assert.matches("^Usage: pktinfo" .. (cmd == "" and "" or " " .. cmd), r.out)
    end)
  end

  it("lists the four commands and the exit statuses", function()
    local out = cli.run({ "--help" }).out
    for _, cmd in ipairs { "listen", "echo", "send", "ifaces" } do assert.matches("\n%s+" .. cmd .. "%s", out) end
    assert.matches("130 Ctrl%-C", out)
  end)

  it("--version prints the module's version", function()
    local r = cli.run({ "--version" })
    assert.equal(0, r.code)
    assert.equal("pktinfo " .. pktinfo._VERSION, r.out:match("^(%S+ %S+)"))
  end)
end)

describe("pktinfo: a bad argument is one line and exit 2", function()
  local cases = {
    { { "listen", "--frobnicate", "5300" }, "unknown option '%-%-frobnicate'" },
    { { "frob" }, "unknown command 'frob'" },
    { {}, "a command is required" },
    { { "listen" }, "missing argument" },
    { { "listen", "1", "2", "3" }, "too many arguments" },
    { { "listen", "300.1.2.3", "5300" }, "^pktinfo: bind 300%.1%.2%.3:5300: not a numeric IP address: '300%.1%.2%.3'$" },
    { { "echo", "127.0.0.1", "70000" }, "^pktinfo: port: expected an integer 0%.%.65535, got '70000'$" },
    { { "listen", "http" }, "port: expected an integer" },
    { { "send", "localhost", "53" }, "^pktinfo: send to localhost:53: not a numeric IP address: 'localhost'$" },
    { { "send", "127.0.0.1", "0" }, "port: expected an integer 1%.%.65535" },
    { { "send", "-6", "127.0.0.1", "53" }, "127%.0%.0%.1 is an IPv4 address, but %-6 was given" },
    { { "listen", "-4", "::1", "53" }, "::1 is an IPv6 address, but %-4 was given" },
    { { "listen", "-4", "-6", "53" }, "option '%-6' can not be used together with option '%-4'" },
    { { "listen", "--hex", "--json", "53" }, "can not be used together" },
    { { "listen", "--count", "0", "0" }, "%-%-count: expected an integer 1%.%." },
    { { "listen", "--timeout", "soon", "0" }, "%-%-timeout: expected seconds" },
    { { "listen", "--size", "0", "0" }, "%-%-size: expected an integer 1%.%.1048576" },
    { { "send", "--ttl", "256", "127.0.0.1", "9" }, "%-%-ttl: expected an integer 1%.%.255, got '256'" },
    { { "send", "--tos", "0x100", "127.0.0.1", "9" }, "%-%-tos: expected an integer 0%.%.255" },
    { { "send", "--wait", "-", "127.0.0.1", "9" }, "%-%-wait: expected seconds" },
    { { "send", "--from", "::1", "127.0.0.1", "9" }, "^pktinfo: send to 127%.0%.0%.1:9: .*IPv6" },
  }
  for _, c in ipairs(cases) do
    it("pktinfo " .. table.concat(c[1], " "), function()
      refused(cli.run(c[1]), 2, c[2])
    end)
  end
end)

describe("pktinfo: a refusal by the system is one line and exit 1", function()
  it("port in use: EADDRINUSE", function()
    local s = assert(pktinfo.udp("inet"))
    assert(s:bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    local r = cli.run({ "listen", "127.0.0.1", tostring(port) })
    s:close()
    refused(r, 1, ("^pktinfo: bind 127%%.0%%.0%%.1:%d: Address already in use %%(EADDRINUSE%%)$"):format(port))
  end)

  it("the wildcard port in use on IPv4 and IPv6 (dual-stack by default): EADDRINUSE", function()
    local s = assert(pktinfo.udp("inet"))
    assert(s:bind("*", 0))
    local _, port = s:getsockname()
    local r = cli.run({ "echo", tostring(port) })
    local r6 = cli.run({ "echo", "-6", "--timeout", "0.1", tostring(port) })
    s:close()
    refused(r, 1, ("^pktinfo: bind %%[::%%]:%d: Address already in use %%(EADDRINUSE%%)$"):format(port))
    -- -6 is a v6-only socket, which does not clash with the IPv4 one
    assert.equal(0, r6.code, r6.err)
  end)

  it("joining an address that is not a group: EINVAL", function()
    refused(cli.run({ "listen", "--join", "127.0.0.1", "0" }), 1,
      "^pktinfo: join 127%.0%.0%.1: .* %(EINVAL%)$")
  end)

  it("an interface that does not exist: ENODEV", function()
    refused(cli.run({ "listen", "--join", "239.1.2.3%nosuch", "0" }), 1,
      "^pktinfo: join 239%.1%.2%.3%%nosuch: No such device %(ENODEV%)$")
    refused(cli.run({ "send", "--dev", "nosuch0", "127.0.0.1", "9" }), 1,
      "^pktinfo: %-%-dev nosuch0: .*'nosuch0' %(ENODEV%)$")
  end)

  it("no answer within --wait: exit 1, after the line that says it was sent", function()
    local s = assert(pktinfo.udp("inet"))
    assert(s:bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    local r = cli.run({ "send", "--wait", "0.3", "127.0.0.1", tostring(port), "anyone?" })
    local data = s:recv()
    s:close()
    assert.equal("anyone?", data)
    assert.equal(1, r.code)
    assert.matches(("^sent 7 bytes to 127%%.0%%.0%%.1:%d from port %%d+\n$"):format(port), r.out)
    assert.equal(("pktinfo: no answer from 127.0.0.1:%d within 0.3 s\n"):format(port), r.err)
  end)

  it("fewer datagrams than --count within --timeout: exit 1", function()
    local r = cli.run({ "listen", "-q", "--count", "2", "--timeout", "0.3", "127.0.0.1", "0" })
    refused(r, 1, "^pktinfo: timeout: 0 of 2 datagrams in 0%.3 s$")
  end)
end)

describe("pktinfo on loopback", function()
  it("send - reads the datagram from standard input", function()
    local s = assert(pktinfo.udp("inet", { pktinfo = true, timeout = 5 }))
    assert(s:bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    local r = cli.run({ "send", "127.0.0.1", tostring(port), "-" }, { stdin = "a\0b\n" })
    assert.equal(0, r.code, r.err)
    local data = s:recv()
    s:close()
    assert.equal("a\0b\n", data)
  end)

  it("listen --hex dumps the payload under its line", function()
    local h = cli.spawn(nil, { "listen", "--hex", "--count", "1", "127.0.0.1", "0" })
    local c = assert(pktinfo.udp("inet"))
    assert(c:sendto("hello\0\1\255 world, 20 bytes", "127.0.0.1", h.port))
    local _, cport = c:getsockname()
    c:close()
    local r = h:finish()
    assert.equal(0, r.code, r.err)
    assert.equal(3, #r.lines, r.out)
    assert.matches(("^%%d%%d:%%d%%d:%%d%%d 127%%.0%%.0%%.1:%d %%-> 127%%.0%%.0%%.1 on lo %%(ifindex 1%%), 24 bytes$")
      :format(cport), r.lines[1])
    assert.equal("  0000  68 65 6c 6c 6f 00 01 ff 20 77 6f 72 6c 64 2c 20  hello... world, ", r.lines[2])
    assert.equal("  0010  32 30 20 62 79 74 65 73" .. (" "):rep(26) .. "20 bytes", r.lines[3])
  end)

  it("listen --timeout without --count ends with exit 0", function()
    local r = cli.run({ "listen", "--timeout", "0.2", "127.0.0.1", "0" })
    assert.equal(0, r.code, r.err)
    assert.matches("^listening on 127%.0%.0%.1:%d+\n$", r.err)
  end)
end)
