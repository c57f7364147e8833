-- pktinfo in a terminal, as a person runs it: under tmux (a real pty, so
-- Ctrl-C is the terminal's SIGINT to the foreground process), in the
-- server namespace of spec/helpers/cli_rig.lua. The screen must hold one
-- readable line per datagram, and Ctrl-C must end the command at once,
-- with status 130 and no Lua traceback, also while `send --wait` waits.
-- Needs root, namespaces and tmux; pending with the reason otherwise.
local gate = require "helpers.gate"
local cli = require "helpers.cli_rig"

local WIDTH, HEIGHT = 110, 30

describe("pktinfo in a terminal (tmux)", function()
  local r, sock, conf
  local why = gate.netns() or gate.command("tmux")

  --- Runs a tmux command on our own server; its output.
  local function tmux(args)
    return cli.must("TERM=xterm tmux -L " .. sock .. " -f " .. conf .. " " .. args)
  end

  setup(function()
    if why then return end
    r = cli.up()
    sock = r.server .. "-tmux"
    conf = os.tmpname()
    local f = assert(io.open(conf, "w"))
    f:write("set -g remain-on-exit on\nset -g history-limit 1000\n")
    f:close()
  end)

  teardown(function()
    if sock then os.execute("tmux -L " .. sock .. " kill-server >/dev/null 2>&1") end
    if conf then os.remove(conf) end
    if r then r:down() end
  end)

  --- Starts `pktinfo args` in a new tmux window of the server namespace.
  -- bash runs it and then prints its exit status: tmux 3.3 sometimes
  -- marks a pane dead before it has the status. (bash waits for a
  -- foreground command that handles SIGINT itself, and carries on.)
  local function start(name, args)
    local cmd = "bash -c " .. cli.quote("ip netns exec " .. r.server .. " " .. cli.command(args)
      .. '; echo "[exit $?]"')
    local new = sock and os.execute("tmux -L " .. sock .. " has-session >/dev/null 2>&1")
    if new == true or new == 0 then
      tmux(("new-window -d -n %s %s"):format(name, cli.quote(cmd)))
    else
      tmux(("new-session -d -s pk -n %s -x %d -y %d %s"):format(name, WIDTH, HEIGHT, cli.quote(cmd)))
    end
  end

  --- The screen of window `name`, wrapped lines joined.
  local function screen(name)
    return tmux("capture-pane -p -J -t pk:" .. name)
  end

  --- Waits (up to `limit` seconds) until the screen matches pattern.
  local function wait_screen(name, pattern, limit)
    local s
    for _ = 1, (limit or 5) * 20 do
      s = screen(name)
      if s:find(pattern) then return s end
      os.execute("sleep 0.05")
    end
    error("screen never matched " .. pattern .. ":\n" .. s, 2)
  end

  --- Sends Ctrl-C; returns the exit status and how many 50 ms polls it
  -- took (nil if it did not end within 5 s).
  local function interrupt(name)
    tmux("send-keys -t pk:" .. name .. " C-c")
    for i = 1, 100 do
      local status = screen(name):match("%[exit (%d+)%]")
      if status then return tonumber(status), i end
      os.execute("sleep 0.05")
    end
    return nil, 100
  end

  it("listen prints one readable line per datagram, and Ctrl-C ends it with status 130", function()
    if why then pending(why) end
    start("listen", { "listen", "--ttl", "--tos", "0" })
    local port = wait_screen("listen", "listening on %[::%]:%d+"):match("listening on %[::%]:(%d+)")
    local sent = {}
    for _, dst in ipairs { "192.0.2.1", "2001:db8:1::1", "203.0.113.1" } do
      local res = r:run("c", { "send", "--tos", "0x02", dst, port, "hello" })
      assert.equal(0, res.code, res.err)
      sent[#sent + 1] = { dst, res.out:match(" port (%d+)\n$") }
    end
    local s = wait_screen("listen", "203%.0%.113%.1 on sb")
    local lines = {}
    for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("listening on [::]:" .. port .. " (IPv4 and IPv6)", lines[1])
    local from = { ["192.0.2.1"] = "198.51.100.2", ["2001:db8:1::1"] = "[2001:db8:a::2]",
                   ["203.0.113.1"] = "203.0.113.2" }
    local link = { ["192.0.2.1"] = "sa", ["2001:db8:1::1"] = "sa", ["203.0.113.1"] = "sb" }
    for i, x in ipairs(sent) do
      local want = ("%s:%s -> %s on %s (ifindex %d), 5 bytes, ttl 64, tos 0x02 ECT(0)"):format(
        from[x[1]], x[2], x[1], link[x[1]], r.ifindex[link[x[1]]])
      local l = lines[i + 1]
      assert.matches("^%d%d:%d%d:%d%d ", l)
      assert.equal(want, l:sub(10))
      assert.is_true(#l <= WIDTH, "longer than the terminal: " .. l)
      assert.is_nil(l:find("[%c\127]"), l)
    end
    local status, polls = interrupt("listen")
    assert.equal(130, status)
    assert.is_true(polls <= 20, "Ctrl-C took " .. polls * 50 .. " ms")
    local after = screen("listen")
    for _, bad in ipairs { "interrupted", "traceback", "lua5", "luajit", "pktinfo:" } do
      assert.is_nil(after:lower():find(bad, 1, true), after)
    end
  end)

  it("Ctrl-C ends send --wait at once, not when the wait runs out", function()
    if why then pending(why) end
    -- Nothing answers on port 9 of the server's own loopback.
    start("send", { "send", "--wait", "60", "127.0.0.1", "9" })
    wait_screen("send", "sent 7 bytes to 127%.0%.0%.1:9 from port %d+")
    local status, polls = interrupt("send")
    assert.equal(130, status)
    assert.is_true(polls <= 20, "Ctrl-C took " .. polls * 50 .. " ms")
    local after = screen("send")
    assert.is_nil(after:lower():find("traceback", 1, true), after)
    assert.is_nil(after:find("pktinfo:", 1, true), after)
  end)
end)
