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
max_line_length = 120
codes = true

-- busted specs and their helpers.
files["spec"] = { std = "+busted" }

-- Code that runs inside an nginx worker (OpenResty's ngx API).
files["spec/nginx"] = { std = "min", read_globals = { "ngx", "jit" } }
files["examples/nginx"] = { std = "min", read_globals = { "ngx", "jit" } }

exclude_files = { "build/", ".luarocks/", "lua_modules/" }
