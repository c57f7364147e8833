-- The catalogue of bad inputs (issue 6): every function and method with
-- wrong types, nil, out-of-range numbers and malformed text in each of its
-- arguments, sockets in every wrong state, descriptors that are not what
-- they seem, and sources and interfaces the host does not have. Each row
-- states what must happen: a raised error naming the argument ("bad
-- argument #N", counting self as #1 since rows call through pcall), or the
-- OS-refusal triple nil, message, errname. A row that crashes, returns
-- something else, or raises for the wrong argument fails the spec; the
-- closing line says how many bad inputs were tried.
local pktinfo = require "pktinfo"
local gate = require "helpers.gate"

local unpack = table.unpack or unpack
local NaN, INF = 0 / 0, math.huge
local tried, failures = 0, {}

local function pack(...) return { n = select("#", ...), ... } end

local function show(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  return tostring(v)
end

-- Expectations.
local function raises(argn, text) return { kind = "raise", arg = argn, text = text } end
local function fails(errname, msg) return { kind = "fail", errname = errname, msg = msg } end
local function gives(desc, check) return { kind = "ok", desc = desc, check = check } end
local function errors_with(text) return { kind = "error", text = text } end

--- Runs one row: calls fn(args...) under pcall and checks the outcome.
-- Mismatches are collected (with the row's name) rather than thrown, so
-- one run lists every broken row.
local function row(name, fn, args, expect)
  tried = tried + 1
  local r = pack(pcall(fn, unpack(args, 1, args.n or #args)))
  local why
  if expect.kind == "raise" or expect.kind == "error" then
    if r[1] then
      why = "expected an error, got " .. show(r[2]) .. ", " .. show(r[3]) .. ", " .. show(r[4])
    else
      local msg = tostring(r[2])
      if expect.kind == "raise" and not msg:find("bad argument #" .. expect.arg, 1, true) then
        why = "error does not name argument #" .. expect.arg .. ": " .. msg
      elseif expect.text and not msg:find(expect.text, 1, true) then
        why = "error lacks '" .. expect.text .. "': " .. msg
      end
    end
  elseif expect.kind == "fail" then
    if not r[1] then
      why = "raised " .. tostring(r[2])
    elseif r[2] ~= nil or type(r[3]) ~= "string" or r[4] ~= expect.errname then
      why = "expected nil, msg, " .. expect.errname .. "; got " .. show(r[2]) .. ", "
        .. show(r[3]) .. ", " .. show(r[4])
    elseif expect.msg and r[3] ~= expect.msg then
      why = "expected message " .. show(expect.msg) .. ", got " .. show(r[3])
    end
  else
    if not r[1] then
      why = "raised " .. tostring(r[2])
    elseif not expect.check(unpack(r, 2, r.n)) then
      why = "expected " .. expect.desc .. ", got " .. show(r[2]) .. ", " .. show(r[3])
        .. ", " .. show(r[4])
    end
  end
  if why then failures[#failures + 1] = name .. ": " .. why end
end

--- Asserts that no row since the last call failed.
local function no_failures()
  local list = failures
  failures = {}
  assert(#list == 0, #list .. " bad-input rows misbehaved:\n  " .. table.concat(list, "\n  "))
end

local function is_true(v) return v == true end
local function is_socket(v) return type(v) == "userdata" and tostring(v):find("^pktinfo%.") ~= nil end

-- Values of every wrong type (numbers are converted to strings by Lua's
-- own convention, so they are not wrong where text is expected).
local WRONG = { true, false, {}, print, coroutine.create(function() end), io.stdout }
local WRONG_OR_NUMBER = { true, {}, print, io.stdout, 42 }
local BAD_PORT = { -1, 65536, 1.5, NaN, INF, 2 ^ 53, 2 ^ 63, "http", true, {}, print }
-- Malformed addresses for an inet socket, with the words the error uses.
local BAD_ADDR = {
  { "", "not a numeric IP address" }, { "\0", "not a numeric IP address" },
  { "127.0.0.1\0", "not a numeric IP address" }, { "127.0.0.1\0junk", "not a numeric IP address" },
  { "127.0.0.1 ", "not a numeric IP address" }, { " 127.0.0.1", "not a numeric IP address" },
  { "127.0.0.1x", "not a numeric IP address" }, { "127.0.0.1:53", "not a numeric IP address" },
  { "localhost", "not a numeric IP address" }, { "1.2.3", "not a numeric IP address" },
  { "256.0.0.1", "not a numeric IP address" }, { "01.2.3.4", "not a numeric IP address" },
  { "1.2.3.4.5", "not a numeric IP address" }, { "0x7f.0.0.1", "not a numeric IP address" },
  { "127.0.0.1%lo", "not a numeric IP address" }, { string.rep("1", 4096), "not a numeric IP address" },
  { "::1", "IPv6 address on an inet socket" }, { "fe80::1%lo", "IPv6 address on an inet socket" },
  { "::ffff:1.2.3.4x", "not a numeric IP address" }, { "[::1]", "not a numeric IP address" },
  { "fe80::1%", "not a numeric IP address" }, { "fe80::1%0", "not a numeric IP address" },
  { "fe80::1%4294967296", "not a numeric IP address" },
  { "fe80::1%no-such-if0", "IPv6 address on an inet socket" }, { "1:2:3:4:5:6:7:8:9", "not a numeric IP address" },
}

local function udp(family)
  return assert(pktinfo.udp(family))
end

--- A bound inet socket, its port, and a cleanup list.
local function server()
  local s = udp()
  assert(s:bind("127.0.0.1", 0))
  s:settimeout(0)
  local _, port = s:getsockname()
  return s, port
end

local methods = getmetatable(udp()).__index

describe("bad input catalogue", function()
  teardown(function()
    print(("\nbad-input catalogue: %d bad inputs tried"):format(tried))
  end)

  it("module functions: wrong types, nil, bad names and numbers", function()
    for _, v in ipairs(WRONG) do
      if v ~= false then
        row("udp(family=" .. show(v) .. ")", pktinfo.udp, { v }, raises(1))
      end
      row("raw(family=" .. show(v) .. ")", pktinfo.raw, { v, "icmp" }, raises(1))
      if type(v) ~= "table" and v ~= false then
        row("udp('inet', opts=" .. show(v) .. ")", pktinfo.udp, { "inet", v }, raises(2))
        row("raw('inet', 'icmp', opts=" .. show(v) .. ")", pktinfo.raw, { "inet", "icmp", v }, raises(3))
        row("wrap(0, opts=" .. show(v) .. ")", pktinfo.wrap, { 0, v }, raises(2))
      end
      if v ~= io.stdout and type(v) ~= "table" then
        row("wrap(" .. show(v) .. ")", pktinfo.wrap, { v }, raises(1))
      end
      row("ifname(" .. show(v) .. ")", pktinfo.ifname, { v }, raises(1))
      row("ifindex(" .. show(v) .. ")", pktinfo.ifindex, { v }, raises(1))
    end
    row("raw(nil, 'icmp')", pktinfo.raw, { n = 2, nil, "icmp" }, raises(1))
    row("raw('inet')", pktinfo.raw, { "inet" }, raises(2))
    row("wrap()", pktinfo.wrap, {}, raises(1))
    row("ifname()", pktinfo.ifname, {}, raises(1))
    row("ifindex()", pktinfo.ifindex, {}, raises(1))
    for _, fam in ipairs { "inet7", "", "INET", "inet\0", "inet\0junk", "unix", "inet6 ", "42" } do
      row("udp(" .. show(fam) .. ")", pktinfo.udp, { fam }, raises(1))
      row("raw(" .. show(fam) .. ", 'icmp')", pktinfo.raw, { fam, "icmp" }, raises(1))
    end
    row("udp(42)", pktinfo.udp, { 42 }, raises(1))
    for _, proto in ipairs { "nosuch", "", "ICMP", "tcp6" } do
      row("raw('inet', " .. show(proto) .. ")", pktinfo.raw, { "inet", proto }, raises(2, "unknown protocol"))
    end
    row("raw('inet', 'icmp\\0')", pktinfo.raw, { "inet", "icmp\0" }, raises(2, "embedded NUL"))
    for _, proto in ipairs { -1, 256, 1.5, NaN, INF, 2 ^ 63, true, {} } do
      row("raw('inet', " .. show(proto) .. ")", pktinfo.raw, { "inet", proto }, raises(2))
    end
    for _, i in ipairs { -1, 2 ^ 31, 1.5, NaN, INF, "lo", 2 ^ 63 } do
      row("ifname(" .. show(i) .. ")", pktinfo.ifname, { i }, raises(1))
    end
    row("ifname(0)", pktinfo.ifname, { 0 }, fails("ENXIO"))
    row("ifname(2^31-1)", pktinfo.ifname, { 2 ^ 31 - 1 }, fails("ENXIO"))
    for _, name in ipairs { "", "no-such-if0", string.rep("x", 100), "lo ", "LO", "1" } do
      row("ifindex(" .. show(name) .. ")", pktinfo.ifindex, { name }, fails("ENODEV"))
    end
    row("ifindex('lo\\0junk')", pktinfo.ifindex, { "lo\0junk" }, raises(1, "embedded NUL"))
    no_failures()
  end)

  it("creation options: unknown names, wrong types, out-of-range sizes", function()
    local bad_opts = {
      { { nosuch = true }, "unknown option 'nosuch'" }, { { [1] = true }, "unknown option" },
      { { [true] = 1 }, "unknown option" }, { { Timeout = 1 }, "unknown option 'Timeout'" },
      { { rcvbuf = -1 }, "opts.rcvbuf" },
      { { rcvbuf = 2 ^ 31 }, "opts.rcvbuf" }, { { rcvbuf = 2 ^ 63 }, "opts.rcvbuf" },
      { { rcvbuf = 1.5 }, "opts.rcvbuf" }, { { rcvbuf = NaN }, "opts.rcvbuf" },
      { { rcvbuf = INF }, "opts.rcvbuf" }, { { rcvbuf = "big" }, "opts.rcvbuf" },
      { { rcvbuf = true }, "opts.rcvbuf" }, { { sndbuf = -5 }, "opts.sndbuf" },
      { { sndbuf = {} }, "opts.sndbuf" }, { { timeout = "1" }, "opts.timeout" },
      { { timeout = NaN }, "opts.timeout" }, { { timeout = {} }, "opts.timeout" },
    }
    for _, case in ipairs(bad_opts) do
      local opts, text = case[1], case[2]
      local name = "udp('inet', {" .. show(next(opts)) .. "=" .. show(select(2, next(opts))) .. "})"
      row(name, pktinfo.udp, { "inet", opts }, raises(2, text))
      row("inet6 " .. name, pktinfo.udp, { "inet6", opts }, raises(2, text))
    end
    row("udp('inet', {v6only=true})", pktinfo.udp, { "inet", { v6only = true } }, fails("ENOPROTOOPT"))
    -- an option set to false (or 0) is never an error, whatever the family
    row("udp('inet', {v6only=false})", pktinfo.udp, { "inet", { v6only = false } }, gives("a socket", is_socket))
    row("udp('inet', {rcvbuf=0})", pktinfo.udp, { "inet", { rcvbuf = 0 } }, gives("a socket", is_socket))
    row("udp('inet', {broadcast=false, reuseport=false})", pktinfo.udp,
      { "inet", { broadcast = false, reuseport = false } }, gives("a socket", is_socket))
    no_failures()
  end)

  it("every method: a self that is not a socket", function()
    local names = {}
    for name in pairs(methods) do names[#names + 1] = name end
    table.sort(names)
    assert.is_true(#names >= 20)
    for _, name in ipairs(names) do
      for _, self in ipairs { 42, "sock", {}, io.stdout, true } do
        if name == "close" then   -- close never raises (it is also __gc)
          row(name .. "(" .. show(self) .. ")", methods[name], { self }, gives("true", is_true))
        else
          row(name .. "(" .. show(self) .. ")", methods[name], { self }, raises(1, "pktinfo socket expected"))
        end
      end
      row(name .. "()", methods[name], {}, name == "close" and gives("true", is_true) or raises(1))
    end
    no_failures()
  end)

  it("every argument of every method: wrong types, nil and bad numbers", function()
    local s, port = server()
    local to = { "127.0.0.1", port }
    -- method, the valid arguments, then for each position the values it rejects
    local sigs = {
      { "bind", { "127.0.0.1", 0 }, { WRONG, BAD_PORT } },
      { "setpktinfo", {}, {} },
      { "recv", { 100 }, { { -1, 2 ^ 20 + 1, 2 ^ 40, 1.5, NaN, INF, "big", true, {} } } },
      { "recvmany", { 4, 100 }, { { n = 11, nil, 0, -1, 1025, 1.5, NaN, INF, 2 ^ 63, "x", true, {} },
                                  { -1, 2 ^ 20 + 1, 1.5, NaN, "x", true, {} } } },
      { "sendto", { "x", to[1], to[2] }, { { n = 5, nil, true, {}, print, io.stdout }, WRONG, BAD_PORT } },
      { "reply", { "x", { from = to[1], port = to[2] } }, { { n = 4, nil, true, {}, print }, WRONG_OR_NUMBER } },
      { "sendmany", { {} }, { { n = 5, nil, true, print, io.stdout, 42 } } },
      { "setoption", { "ttl", 64 }, { WRONG, { n = 10, nil, -1, 2 ^ 31, 2 ^ 63, 1.5, NaN, INF, "x", {}, print } } },
      { "getoption", { "ttl" }, { WRONG } },
      { "join", { "239.255.0.1" }, { WRONG } },
      { "leave", { "239.255.0.1" }, { WRONG } },
      { "settimeout", {}, { { NaN, "soon", true, {}, print } } },
    }
    for _, sig in ipairs(sigs) do
      local name, valid, bad = sig[1], sig[2], sig[3]
      for pos, values in ipairs(bad) do
        for i = 1, values.n or #values do
          local args = { n = math.max(#valid, pos) + 1, s }
          for k = 1, #valid do args[k + 1] = valid[k] end
          args[pos + 1] = values[i]
          row(("%s(#%d=%s)"):format(name, pos + 1, show(values[i])), methods[name], args, raises(pos + 1))
        end
      end
      -- a missing required argument
      if #valid > 0 and name ~= "recv" then
        row(name .. " with no arguments", methods[name], { s }, raises(2))
      end
    end
    row("setpktinfo() (value missing)", methods.setpktinfo, { s }, raises(2))
    row("setoption('ttl') (value missing)", methods.setoption, { s, "ttl" }, raises(3))
    row("recv(0, 'into')", methods.recv, { s, 0, "into" }, raises(3))
    row("recv(0, 42)", methods.recv, { s, 0, 42 }, raises(3))
    row("recvmany(1024, 2^20): area over 64 MiB", methods.recvmany, { s, 1024, 2 ^ 20 }, raises(3, "64 MiB"))
    row("recvmany(1, 0, 'into')", methods.recvmany, { s, 1, 0, "into" }, raises(4))
    -- Sizes at the edges are fine: 0 gives an empty, truncated datagram.
    assert(s:sendto("abc", to[1], to[2]))
    row("recv(0) of a 3-byte datagram", methods.recv, { s, 0 }, gives('"" truncated', function(d, info)
      return d == "" and info.truncated == true
    end))
    row("recv(1048576) with nothing queued", methods.recv, { s, 2 ^ 20 }, fails("ETIMEDOUT", "timeout"))
    row("settimeout(-1)", methods.settimeout, { s, -1 }, gives("true", is_true))
    row("settimeout(INF)", methods.settimeout, { s, INF }, gives("true", is_true))
    row("settimeout(nil)", methods.settimeout, { s }, gives("true", is_true))
    s:close()
    no_failures()
  end)

  it("malformed addresses in every address argument", function()
    local s, port = server()
    for _, case in ipairs(BAD_ADDR) do
      local a, text = case[1], case[2]
      row("bind(" .. show(a) .. ")", methods.bind, { s, a, 0 }, raises(2, text))
      row("sendto(" .. show(a) .. ")", methods.sendto, { s, "x", a, port }, raises(3, text))
      row("reply to from=" .. show(a), methods.reply, { s, "x", { from = a, port = port } }, raises(3, text))
      row("join(" .. show(a) .. ")", methods.join, { s, a }, raises(2, text))
      row("sendto src.addr=" .. show(a), methods.sendto, { s, "x", "127.0.0.1", port, { addr = a } },
        raises(5))
      row("sendmany to=" .. show(a), methods.sendmany, { s, { { data = "x", to = a, port = port } } }, raises(2))
    end
    -- "*" is the wildcard for bind only
    row("sendto('*')", methods.sendto, { s, "x", "*", port }, raises(3))
    row("join('*')", methods.join, { s, "*" }, raises(2))
    -- IPv4 text on an inet6 socket is mapped (dual-stack): not an error
    local s6 = udp("inet6")
    row("inet6 sendto IPv4 text", methods.sendto, { s6, "x", "127.0.0.1", port }, gives("1", function(n) return n == 1 end))
    for _, a in ipairs { "fe80::1%", "::1%0", "[::1]", "::1/128", "::1 " } do
      row("inet6 sendto(" .. show(a) .. ")", methods.sendto, { s6, "x", a, port }, raises(3))
    end
    -- a scope naming an interface that does not exist (now) is the system's
    -- answer, not a caller's mistake: interfaces come and go
    local gone = "fe80::1%no-such-if0"
    row("inet6 sendto(" .. show(gone) .. ")", methods.sendto, { s6, "x", gone, port }, fails("ENODEV"))
    row("inet6 bind(" .. show(gone) .. ")", methods.bind, { s6, gone, 0 }, fails("ENODEV"))
    row("inet6 join(" .. show(gone) .. ")", methods.join, { s6, "ff02::1%no-such-if0" }, fails("ENODEV"))
    row("inet6 sendmany to=" .. show(gone), methods.sendmany, { s6, { { data = "x", to = gone, port = port } } },
      fails("ENODEV"))
    s:close(); s6:close()
    no_failures()
  end)

  it("source tables and info tables with bad fields", function()
    local s, port = server()
    local dst = "127.0.0.1"
    local bad_src = {
      { addr = 42 }, { addr = {} }, { addr = "junk" }, { addr = "" }, { addr = "::1" },
      { addr = "127.0.0.1\0" }, { ifindex = -1 }, { ifindex = 2 ^ 31 }, { ifindex = 1.5 },
      { ifindex = NaN }, { ifindex = INF }, { ifindex = "lo" }, { ifindex = {} },
      { ttl = -1 }, { ttl = 256 }, { ttl = 1e300 }, { ttl = -1e300 }, { ttl = NaN }, { ttl = 1.5 },
      { ttl = "64" }, { tos = 256 }, { tos = -1 }, { tos = 1e300 }, { tos = NaN }, { tos = true },
      { from = dst, addr = "junk" }, { from = dst, addr = 42 },
      { from = dst, addr = dst, spec_dst = "junk" }, { from = dst, addr = dst, ifindex = 1e300 },
      { from = dst, addr = dst, ifindex = -1 },
    }
    for _, src in ipairs(bad_src) do
      local fields = {}
      for k, v in pairs(src) do fields[#fields + 1] = tostring(k) .. "=" .. show(v) end
      table.sort(fields)
      local label = table.concat(fields, ",")
      row(("sendto src {%s}"):format(label), methods.sendto, { s, "x", dst, port, src }, raises(5))
      local info = { port = port }
      for kk, vv in pairs(src) do info[kk] = vv end
      info.from = dst
      if src.from or src.addr then
        row(("reply info {%s}"):format(label), methods.reply, { s, "x", info }, raises(3))
      end
      local item = { data = "x", to = dst, port = port }
      for kk, vv in pairs(src) do item[kk] = vv end
      row(("sendmany item {%s}"):format(label), methods.sendmany, { s, { item } }, raises(2))
    end
    for _, p in ipairs { -1, 65536, 1.5, NaN, INF, "53", true } do
      row("reply info.port=" .. show(p), methods.reply, { s, "x", { from = dst, port = p } }, raises(3))
      row("sendmany item.port=" .. show(p), methods.sendmany, { s, { { data = "x", to = dst, port = p } } }, raises(2))
    end
    -- reply's out and a sendmany item's out: ttl and tos for one datagram
    for _, out in ipairs { { ttl = 1e300 }, { ttl = -1 }, { tos = 256 }, { tos = NaN }, { ttl = "64" } } do
      local k, v = next(out)
      row(("reply out {%s=%s}"):format(k, show(v)), methods.reply, { s, "x", { from = dst, port = port }, out },
        raises(4, k))
      row(("sendmany item out {%s=%s}"):format(k, show(v)), methods.sendmany,
        { s, { { data = "x", to = dst, port = port, out = out } } }, raises(2, "item 1: " .. k))
    end
    for _, out in ipairs { 42, "x", true } do
      row("reply out=" .. show(out), methods.reply, { s, "x", { from = dst, port = port }, out }, raises(4))
      row("sendmany item out=" .. show(out), methods.sendmany,
        { s, { { data = "x", to = dst, port = port, out = out } } }, raises(2, "item 1: out"))
    end
    row("reply info without port", methods.reply, { s, "x", { from = dst } }, raises(3))
    row("reply info without from", methods.reply, { s, "x", { port = port } }, raises(3))
    row("reply info.from=42", methods.reply, { s, "x", { from = 42, port = port } }, raises(3))
    for _, item in ipairs { 42, "x", true, print } do
      row("sendmany({" .. show(item) .. "})", methods.sendmany, { s, { item } }, raises(2, "item 1"))
    end
    row("sendmany item without data", methods.sendmany, { s, { { to = dst, port = port } } }, raises(2, "data"))
    row("sendmany item data=42", methods.sendmany, { s, { { data = 42, to = dst, port = port } } }, raises(2, "data"))
    row("sendmany item without to or from", methods.sendmany, { s, { { data = "x", port = port } } }, raises(2))
    row("sendmany: bad second item, nothing sent", methods.sendmany,
      { s, { { data = "first", to = dst, port = port }, { data = "x", to = "junk", port = port } } }, raises(2))
    local got = s:recv()
    assert.is_nil(got)                 -- the good first item was not sent either
    -- Addresses and interfaces the host does not have: the OS refuses.
    row("src addr not owned (192.0.2.1)", methods.sendto, { s, "x", dst, port, { addr = "192.0.2.1" } }, fails("ENETUNREACH"))
    row("src ifindex that does not exist", methods.sendto, { s, "x", dst, port, { ifindex = 2 ^ 31 - 1 } }, fails("ENODEV"))
    row("src addr + missing ifindex", methods.sendto, { s, "x", dst, port, { addr = dst, ifindex = 99999 } }, fails("ENODEV"))
    row("reply to an info from an interface that does not exist", methods.reply,
      { s, "x", { from = dst, port = port, addr = "255.255.255.255", spec_dst = dst, ifindex = 99999 } }, fails("ENODEV"))
    row("sendmany src not owned", methods.sendmany, { s, { { data = "x", to = dst, port = port, addr = "192.0.2.1" } } }, fails("ENETUNREACH"))
    row("bind to an address not owned", methods.bind, { udp(), "192.0.2.1", 0 }, fails("EADDRNOTAVAIL"))
    row("bind to a port in use", methods.bind, { udp(), dst, port }, fails("EADDRINUSE"))
    row("sendto port 0", methods.sendto, { s, "x", dst, 0 }, fails("EINVAL"))
    row("sendto 65536 bytes", methods.sendto, { s, string.rep("x", 65536), dst, port }, fails("EMSGSIZE"))
    row("sendto broadcast without the option", methods.sendto, { s, "x", "255.255.255.255", port }, fails("EACCES"))
    row("sendto src ttl=0", methods.sendto, { s, "x", dst, port, { ttl = 0 } }, fails("EINVAL"))
    while s:recv() do end
    s:close()
    no_failures()
  end)

  it("options, groups and interfaces that do not exist", function()
    local s = server()
    for _, name in ipairs { "nosuch", "", "TTL", "pktinfo", "timeout", "own" } do
      row("setoption(" .. show(name) .. ")", methods.setoption, { s, name, 1 }, raises(2, "unknown option"))
      row("getoption(" .. show(name) .. ")", methods.getoption, { s, name }, raises(2, "unknown option"))
    end
    row("setoption('ttl\\0')", methods.setoption, { s, "ttl\0", 1 }, raises(2, "embedded NUL"))
    row("getoption('ttl\\0x')", methods.getoption, { s, "ttl\0x" }, raises(2, "embedded NUL"))
    row("setoption('multicast-if', 'no-such-if0')", methods.setoption, { s, "multicast-if", "no-such-if0" }, fails("ENODEV"))
    row("setoption('multicast-if', 'lo\\0x')", methods.setoption, { s, "multicast-if", "lo\0x" }, raises(3, "embedded NUL"))
    row("setoption('multicast-if', -1)", methods.setoption, { s, "multicast-if", -1 }, raises(3))
    row("setoption('multicast-if', {})", methods.setoption, { s, "multicast-if", {} }, raises(3))
    row("setoption('multicast-if', 2^31-1)", methods.setoption, { s, "multicast-if", 2 ^ 31 - 1 }, fails("EADDRNOTAVAIL"))
    row("setoption('v6only') on inet", methods.setoption, { s, "v6only", true }, fails("ENOPROTOOPT"))
    row("getoption('v6only') on inet", methods.getoption, { s, "v6only" }, fails("ENOPROTOOPT"))
    row("setoption('ttl', 0): 0 is never an error", methods.setoption, { s, "ttl", 0 }, gives("true", is_true))
    row("setoption('ttl', 256)", methods.setoption, { s, "ttl", 256 }, fails("EINVAL"))
    row("join(unicast)", methods.join, { s, "127.0.0.1" }, fails("EINVAL"))
    row("join(group, ifindex that does not exist)", methods.join, { s, "239.255.0.1", 2 ^ 31 - 1 }, fails("ENODEV"))
    row("join(group, 'no-such-if0')", methods.join, { s, "239.255.0.1", "no-such-if0" }, fails("ENODEV"))
    row("join(group, -1)", methods.join, { s, "239.255.0.1", -1 }, raises(3))
    row("join(group, 1.5)", methods.join, { s, "239.255.0.1", 1.5 }, raises(3))
    row("leave(group not joined)", methods.leave, { s, "239.255.0.1" }, fails("EADDRNOTAVAIL"))
    s:close()
    no_failures()
  end)

  it("every method on a closed socket", function()
    local s = server()
    local _, port = s:getsockname()
    assert.is_true(s:close())
    local closed = {
      { "bind", "127.0.0.1", 0 }, { "getsockname" }, { "setpktinfo", true }, { "getpktinfo" },
      { "recv" }, { "recv", 10, {} }, { "recvmany", 4 }, { "sendto", "x", "127.0.0.1", port },
      { "sendto", "x", "127.0.0.1", port, { addr = "127.0.0.1" } },
      { "reply", "x", { from = "127.0.0.1", port = port } }, { "sendmany", { { data = "x", to = "127.0.0.1", port = port } } },
      { "setoption", "ttl", 9 }, { "getoption", "ttl" }, { "join", "239.255.0.1" }, { "leave", "239.255.0.1" },
    }
    for _, c in ipairs(closed) do
      row("closed:" .. c[1], methods[c[1]], { s, unpack(c, 2) }, fails("EBADF", "closed"))
    end
    row("closed:close again", methods.close, { s }, gives("true", is_true))
    row("closed:getfd", methods.getfd, { s }, gives("-1", function(fd) return fd == -1 end))
    row("closed:settimeout", methods.settimeout, { s, 1 }, gives("true", is_true))
    row("closed:tostring", tostring, { s }, gives("(closed)", function(t) return t:find("(closed)", 1, true) end))
    no_failures()
  end)

  it("a descriptor closed behind the module's back: EBADF, no crash", function()
    local s, port = server()
    local fd = s:getfd()
    local thief = assert(pktinfo.wrap(fd, { own = true }))
    assert.is_true(thief:close())                 -- closes fd under s
    for _, c in ipairs {
      { "bind", "127.0.0.1", 0 }, { "getsockname" }, { "setpktinfo", true }, { "getpktinfo" },
      { "recv" }, { "recvmany", 2 }, { "sendto", "x", "127.0.0.1", port },
      { "sendmany", { { data = "x", to = "127.0.0.1", port = port } } },
      { "setoption", "ttl", 9 }, { "getoption", "rcvbuf" }, { "join", "239.255.0.1" },
    } do
      row("stolen fd:" .. c[1], methods[c[1]], { s, unpack(c, 2) }, fails("EBADF"))
    end
    row("stolen fd:close", methods.close, { s }, gives("true", is_true))
    no_failures()
  end)

  it("wrap of things that are not datagram sockets", function()
    -- descriptors from /proc: a regular file and a pipe this process holds
    local path = os.tmpname()
    local file = assert(io.open(path, "w"))
    local pipe = assert(io.popen("cat >/dev/null", "w"))
    local ls = assert(io.popen("ls -l /proc/$PPID/fd 2>/dev/null"))
    local listing = ls:read("*a"); ls:close()
    local file_fd = tonumber(listing:match("(%d+) %-> " .. path:gsub("%p", "%%%0")))
    local pipe_fd
    -- the lowest-numbered pipe: cat's was made before ls's, and tools such
    -- as valgrind keep pipes of their own at high numbers (ls sorts by name)
    for fd in listing:gmatch("(%d+) %-> pipe:%S+") do
      fd = tonumber(fd)
      if not pipe_fd or fd < pipe_fd then pipe_fd = fd end
    end
    if file_fd then row("wrap(regular file fd)", pktinfo.wrap, { file_fd }, fails("ENOTSOCK")) end
    if pipe_fd then row("wrap(pipe fd)", pktinfo.wrap, { pipe_fd }, fails("ENOTSOCK")) end
    file:close(); pipe:close(); os.remove(path)
    assert(file_fd and pipe_fd, "could not find the file and pipe descriptors in /proc")
    row("wrap(-1)", pktinfo.wrap, { -1 }, fails("EBADF"))
    row("wrap(most negative integer)", pktinfo.wrap, { math.mininteger or -2 ^ 53 }, fails("EBADF"))
    row("wrap(2^31): out of int range", pktinfo.wrap, { 2 ^ 31 }, fails("EBADF"))
    row("wrap(2^32 + 1): not descriptor 1", pktinfo.wrap, { 2 ^ 32 + 1 }, fails("EBADF"))
    row("wrap(2^31 - 1): not open", pktinfo.wrap, { 2 ^ 31 - 1 }, fails("EBADF"))
    row("wrap(1.5)", pktinfo.wrap, { 1.5 }, raises(1))
    row("wrap(NaN)", pktinfo.wrap, { NaN }, raises(1))
    row("wrap({})", pktinfo.wrap, { {} }, raises(1, "getfd"))
    row("wrap({getfd=42})", pktinfo.wrap, { { getfd = 42 } }, raises(1, "getfd"))
    row("wrap(getfd returns text)", pktinfo.wrap, { { getfd = function() return "3" end } }, raises(1))
    row("wrap(getfd returns nothing)", pktinfo.wrap, { { getfd = function() end } }, raises(1))
    row("wrap(getfd returns -1)", pktinfo.wrap, { { getfd = function() return -1 end } }, fails("EBADF"))
    row("wrap(getfd raises)", pktinfo.wrap, { { getfd = function() error("boom") end } }, errors_with("boom"))
    row("wrap(io.stdout)", pktinfo.wrap, { io.stdout }, raises(1))
    local socket = require "socket"
    local tcp = assert(socket.tcp())
    local ok, err
    row("wrap(LuaSocket tcp, not created yet)", pktinfo.wrap, { tcp }, fails("EBADF"))
    assert(tcp:bind("127.0.0.1", 0))
    row("wrap(LuaSocket tcp)", pktinfo.wrap, { tcp }, gives("a socket", is_socket))
    local w = assert(pktinfo.wrap(tcp))
    row("stream: setpktinfo", methods.setpktinfo, { w, true }, fails("ENOPROTOOPT"))
    row("stream: getpktinfo", methods.getpktinfo, { w }, fails("ENOPROTOOPT"))
    w:settimeout(0)
    row("stream: recv", methods.recv, { w }, fails("ENOTCONN"))
    w:close(); tcp:close()
    ok, err = pcall(require, "socket.unix")
    if ok and type(err) == "table" and err.udp then
      local u = assert(err.udp())
      row("wrap(unix datagram socket)", pktinfo.wrap, { u }, fails("EAFNOSUPPORT"))
      u:close()
    end
    no_failures()
  end)

  it("raw sockets without privilege: a clear EPERM", function()
    local cmd
    local code = "local p = require 'pktinfo' " ..
      "for _, a in ipairs { {'inet','icmp'}, {'inet6','icmpv6'}, {'inet','udp'}, {'inet',255}, {'inet6',17} } do " ..
      "print((select(3, p.raw(a[1], a[2]))), (select(2, p.raw(a[1], a[2])))) end"
    local lua = os.getenv("LUA") or "lua5.4"
    local i = -1
    while arg and arg[i - 1] do i = i - 1 end
    if arg and arg[i] and not arg[i]:find("busted") then lua = arg[i] end
    if gate.root() then
      cmd = ("%s -e %q 2>&1"):format(lua, code)
    else
      local why = gate.command("setpriv"); if why then pending(why) return end
      cmd = ("LUA_CPATH=%q LUA_PATH=%q setpriv --bounding-set=-net_raw --inh-caps=-net_raw %s -e %q 2>&1")
        :format(package.cpath, package.path, lua, code)
    end
    local f = assert(io.popen(cmd))
    local out = f:read("*a"); f:close()
    local n = 0
    for line in out:gmatch("[^\n]+") do
      n = n + 1; tried = tried + 1
      if line ~= "EPERM\tOperation not permitted" then
        failures[#failures + 1] = "raw without privilege: " .. line
      end
    end
    assert.equal(5, n, out)
    no_failures()
  end)

  -- Gateways (README, "Gateways"): connected sockets, the escape hatch,
  -- recverr and the gateway options. Linux option numbers.
  it("gateway methods: wrong types, bad levels, names, sizes and values", function()
    local s, port = server()
    local SO_BINDTODEVICE, IP_TTL = 25, 2
    for _, v in ipairs(WRONG) do
      row("setpeername(" .. show(v) .. ")", methods.setpeername, { s, v, port }, raises(2))
      row("send(" .. show(v) .. ")", methods.send, { s, v }, raises(2))
      if type(v) ~= "table" and v ~= false then
        row("send('x', out=" .. show(v) .. ")", methods.send, { s, "x", v }, raises(3))
      end
      if type(v) ~= "table" and type(v) ~= "boolean" then
        row("setsockopt(level=" .. show(v) .. ")", methods.setsockopt, { s, v, IP_TTL, 1 }, raises(2))
        row("getsockopt(level=" .. show(v) .. ")", methods.getsockopt, { s, v, IP_TTL }, raises(2))
      end
      row("setsockopt('ip', name=" .. show(v) .. ")", methods.setsockopt, { s, "ip", v, 1 }, raises(3))
      row("getsockopt('ip', name=" .. show(v) .. ")", methods.getsockopt, { s, "ip", v }, raises(3))
      if v ~= io.stdout then
        row("setsockopt('ip', 2, value=" .. show(v) .. ")", methods.setsockopt, { s, "ip", IP_TTL, v }, raises(4))
      end
      row("getsockopt('ip', 2, size=" .. show(v) .. ")", methods.getsockopt, { s, "ip", IP_TTL, v }, raises(4))
    end
    row("send() (data missing)", methods.send, { s }, raises(2))
    row("setpeername() (address missing)", methods.setpeername, { s }, raises(2))
    row("setpeername('127.0.0.1') (port missing)", methods.setpeername, { s, "127.0.0.1" }, raises(3))
    for _, p in ipairs(BAD_PORT) do
      row("setpeername('127.0.0.1', " .. show(p) .. ")", methods.setpeername, { s, "127.0.0.1", p }, raises(3))
    end
    for _, case in ipairs(BAD_ADDR) do
      row("setpeername(" .. show(case[1]) .. ")", methods.setpeername, { s, case[1], port }, raises(2, case[2]))
    end
    row("setpeername('**')", methods.setpeername, { s, "**", port }, raises(2))
    for _, out in ipairs { { ttl = 256 }, { ttl = -1 }, { tos = 1e300 }, { ttl = "9" } } do
      local k, v = next(out)
      row(("send out {%s=%s}"):format(k, show(v)), methods.send, { s, "x", out }, raises(3, k))
    end
    row("send, not connected", methods.send, { s, "x" }, fails("EDESTADDRREQ"))
    row("send with out, not connected", methods.send, { s, "x", { ttl = 3 } }, fails("EDESTADDRREQ"))
    row("getpeername, not connected", methods.getpeername, { s }, fails("ENOTCONN"))
    row("getoption('mtu'), not connected", methods.getoption, { s, "mtu" }, fails("ENOTCONN"))
    for _, level in ipairs { "tcp", "", "IP", "ip\0", "socket ", "sol_socket", -1, 2 ^ 31, 1.5, NaN, INF, true } do
      row("setsockopt(level=" .. show(level) .. ")", methods.setsockopt, { s, level, IP_TTL, 1 }, raises(2))
      row("getsockopt(level=" .. show(level) .. ")", methods.getsockopt, { s, level, IP_TTL }, raises(2))
    end
    row("setsockopt('tcp') names the levels", methods.setsockopt, { s, "tcp", 1, 1 }, raises(2, "unknown level 'tcp'"))
    for _, name in ipairs { -1, 2 ^ 31, 1.5, NaN, INF, "ttl", 2 ^ 63 } do
      row("setsockopt('ip', name=" .. show(name) .. ")", methods.setsockopt, { s, "ip", name, 1 }, raises(3))
      row("getsockopt('ip', name=" .. show(name) .. ")", methods.getsockopt, { s, "ip", name }, raises(3))
    end
    for _, v in ipairs { 2 ^ 31, -2 ^ 31 - 1, 2 ^ 63, 1.5, NaN, INF } do
      row("setsockopt('ip', 2, " .. show(v) .. ")", methods.setsockopt, { s, "ip", IP_TTL, v }, raises(4))
    end
    row("setsockopt value of 257 bytes", methods.setsockopt, { s, "ip", IP_TTL, string.rep("x", 257) }, raises(4, "256"))
    row("setsockopt value of 65536 bytes", methods.setsockopt, { s, "ip", IP_TTL, string.rep("x", 65536) }, raises(4))
    row("setsockopt value of 256 bytes (the kernel's answer)", methods.setsockopt,
      { s, "ip", IP_TTL, string.rep("x", 256) }, fails("EINVAL"))
    for _, size in ipairs { 0, -1, 257, 2 ^ 31, 1.5, NaN, "eight", true, {} } do
      row("getsockopt('ip', 2, size=" .. show(size) .. ")", methods.getsockopt, { s, "ip", IP_TTL, size }, raises(4))
    end
    row("getsockopt size 256", methods.getsockopt, { s, "ip", IP_TTL, 256 },
      gives("4 bytes", function(b) return type(b) == "string" and #b == 4 end))
    row("setsockopt of an option the kernel lacks", methods.setsockopt, { s, "ip", 9999, 1 }, fails("ENOPROTOOPT"))
    row("getsockopt of an option the kernel lacks", methods.getsockopt, { s, "ip", 9999 }, fails("ENOPROTOOPT"))
    row("setsockopt SO_BINDTODEVICE 'nosuch0'", methods.setsockopt, { s, "socket", SO_BINDTODEVICE, "nosuch0" }, fails("ENODEV"))
    row("setsockopt at level 9999", methods.setsockopt, { s, 9999, 1, 1 }, fails("ENOPROTOOPT"))
    -- recverr() on a socket without the option: a timeout, nothing else
    row("recverr() without the option", methods.recverr, { s }, fails("ETIMEDOUT", "timeout"))
    s:close()
    no_failures()
  end)

  it("gateway options: unknown names, wrong value types, devices that do not exist", function()
    local s = server()
    local s6 = udp("inet6")
    for _, name in ipairs { "Device", "mtu_discover", "recv-err", "orig_dst", "tproxy", "vrf", "MARK" } do
      row("setoption(" .. show(name) .. ")", methods.setoption, { s, name, true }, raises(2, "unknown option"))
      row("getoption(" .. show(name) .. ")", methods.getoption, { s, name }, raises(2, "unknown option"))
      row("udp('inet', {" .. name .. "=true})", pktinfo.udp, { "inet", { [name] = true } }, raises(2, "unknown option"))
    end
    for _, v in ipairs { 42, true, {}, print, 0 } do
      row("setoption('device', " .. show(v) .. ")", methods.setoption, { s, "device", v }, raises(3, "interface name"))
      row("udp('inet', {device=" .. show(v) .. "})", pktinfo.udp, { "inet", { device = v } }, raises(2, "opts.device"))
    end
    row("setoption('device', 'lo\\0x')", methods.setoption, { s, "device", "lo\0x" }, raises(3, "embedded NUL"))
    for _, dev in ipairs { "nosuch0", "a-name-longer-than-15", string.rep("x", 4096), "LO", "lo " } do
      row("setoption('device', " .. show(dev) .. ")", methods.setoption, { s, "device", dev }, fails("ENODEV"))
      row("inet6 setoption('device', " .. show(dev) .. ")", methods.setoption, { s6, "device", dev }, fails("ENODEV"))
      row("udp('inet', {device=" .. show(dev) .. "})", pktinfo.udp, { "inet", { device = dev } }, fails("ENODEV"))
    end
    for _, v in ipairs { "sometimes", "", "DO", "do\0", "yes", 1, true, {} } do
      row("setoption('mtu-discover', " .. show(v) .. ")", methods.setoption, { s, "mtu-discover", v }, raises(3, "'dont'"))
      row("udp('inet6', {mtu-discover=" .. show(v) .. "})", pktinfo.udp, { "inet6", { ["mtu-discover"] = v } },
        raises(2, "opts.mtu-discover"))
    end
    for _, v in ipairs { -1, 2 ^ 32, 2 ^ 63, 1.5, NaN, INF, "7", true, {} } do
      row("setoption('mark', " .. show(v) .. ")", methods.setoption, { s, "mark", v }, raises(3, "4294967295"))
      row("udp('inet', {mark=" .. show(v) .. "})", pktinfo.udp, { "inet", { mark = v } }, raises(2, "opts.mark"))
    end
    row("setoption('mtu', 1400): read-only", methods.setoption, { s, "mtu", 1400 }, fails("ENOPROTOOPT"))
    row("udp('inet', {mtu=1400}): not a creation option", pktinfo.udp, { "inet", { mtu = 1400 } }, raises(2, "unknown option"))
    -- an option set to false (or 0) is never an error, whatever the family
    for _, family in ipairs { "inet", "inet6" } do
      local f = udp(family)
      for _, name in ipairs { "device", "mark", "freebind", "transparent", "recvorigdst", "recverr", "mtu-discover" } do
        row(family .. " setoption(" .. show(name) .. ", false)", methods.setoption, { f, name, false }, gives("true", is_true))
        row(family .. " udp({" .. name .. "=false})", pktinfo.udp, { family, { [name] = false } }, gives("a socket", is_socket))
      end
      row(family .. " setoption('mark', 0)", methods.setoption, { f, "mark", 0 }, gives("true", is_true))
      row(family .. " setoption('mtu', 0)", methods.setoption, { f, "mtu", 0 }, gives("true", is_true))
      f:close()
    end
    s:close(); s6:close()
    no_failures()
  end)

  it("gateway methods on a closed socket, and on a descriptor closed behind the module's back", function()
    local s, port = server()
    local fd = s:getfd()
    local thief = assert(pktinfo.wrap(fd, { own = true }))
    assert.is_true(thief:close())
    local calls = {
      { "setpeername", "127.0.0.1", port }, { "setpeername", "*" }, { "getpeername" }, { "send", "x" },
      { "send", "x", { ttl = 3 } }, { "setsockopt", "ip", 2, 9 }, { "setsockopt", "socket", 25, "lo" },
      { "getsockopt", "ip", 2 }, { "getsockopt", "ip", 2, 4 }, { "recverr" },
      { "setoption", "device", "lo" }, { "getoption", "device" }, { "setoption", "mtu-discover", "do" },
      { "getoption", "mtu-discover" }, { "setoption", "mark", 1 }, { "getoption", "mtu" },
    }
    for _, c in ipairs(calls) do
      row("stolen fd:" .. c[1], methods[c[1]], { s, unpack(c, 2) }, fails("EBADF"))
    end
    s:close()
    for _, c in ipairs(calls) do
      row("closed:" .. c[1], methods[c[1]], { s, unpack(c, 2) }, fails("EBADF", "closed"))
    end
    no_failures()
  end)

  it("transparent, mark and rebinding a device without CAP_NET_ADMIN and CAP_NET_RAW: a clear EPERM", function()
    local code = "local p = require 'pktinfo' " ..
      "for _, f in ipairs { 'inet', 'inet6' } do local s = p.udp(f) " ..
      "print((select(3, s:setoption('transparent', true))), (select(2, s:setoption('transparent', true)))) " ..
      "print((select(3, s:setoption('mark', 1))), (select(2, s:setoption('mark', 1)))) " ..
      "print((select(3, p.udp(f, { transparent = true }))), (select(2, p.udp(f, { transparent = true })))) " ..
      "local b = p.udp(f, { device = 'lo' }) " ..
      "print((select(3, b:setoption('device', 'lo'))), (select(2, b:setoption('device', 'lo')))) end"
    local cmd
    if gate.root() then
      cmd = ("%s -e %q 2>&1"):format(os.getenv("LUA") or "lua5.4", code)
    else
      local why = gate.command("setpriv"); if why then pending(why) return end
      local lua = os.getenv("LUA") or "lua5.4"
      cmd = ("LUA_CPATH=%q LUA_PATH=%q setpriv --bounding-set=-net_admin,-net_raw --inh-caps=-net_admin,-net_raw %s -e %q 2>&1")
        :format(package.cpath, package.path, lua, code)
    end
    local f = assert(io.popen(cmd))
    local out = f:read("*a"); f:close()
    local n = 0
    for line in out:gmatch("[^\n]+") do
      n = n + 1; tried = tried + 1
      if line ~= "EPERM\tOperation not permitted" then
        failures[#failures + 1] = "gateway option without privilege: " .. line
      end
    end
    assert.equal(8, n, out)
    no_failures()
  end)
end)
