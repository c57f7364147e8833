-- luacheck configuration (`make lint`). The Lua code must run unchanged on
-- Lua 5.1-5.4 and LuaJIT, so only the globals every version has are allowed,
-- plus the optional ones feature-tested at run time (math.type, jit, ...).
std = "min"
read_globals = {
  "jit",
  math = { fields = { "type", "tointeger", "maxinteger", "mininteger" } },
  table = { fields = { "unpack", "pack" } },
  "unpack", "setfenv",
}
max_line_length = 150
codes = true

-- busted specs and their helpers. A spec often captures a whole
-- `nil, msg, errname` triple and checks part of it, or drops a reference
-- (`x = nil`) before collectgarbage(): unused values (311) are not flagged.
files["spec"] = { std = "+busted", ignore = { "311" } }
-- The small busted stand-in that runs specs under Wine defines busted's API.
files["spec/windows/runner.lua"] = {
  std = "min",
  globals = { "describe", "context", "it", "pending", "before_each", "after_each",
    "setup", "teardown", "lazy_setup", "lazy_teardown", "strict_setup",
    "strict_teardown", "finally", "assert" },
}

-- Code that runs inside an nginx worker (OpenResty's ngx API).
files["spec/nginx"] = { std = "min", read_globals = { "ngx", "jit" } }
files["examples/nginx"] = { std = "min", read_globals = { "ngx", "jit" } }

-- Documented as Lua 5.3+ (string.pack for DNS messages).
files["examples/mdns_responder.lua"] = { std = "lua54" }

exclude_files = { "build/", ".luarocks/", "lua_modules/" }
