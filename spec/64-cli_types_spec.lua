-- types/pktinfo.lua (LuaCATS annotations for editors) against the README's
-- API tables: every module function and field, socket method and info-table
-- field the README names is annotated, with the README's parameters (names,
-- order, which are optional), and the annotations name nothing more. Also:
-- each annotated method exists on a real socket, and the file is not a
-- module any rockspec installs.
local pktinfo = require "pktinfo"
local cli = require "helpers.cli_rig"

local README = cli.slurp("README.md")
local TYPES = cli.slurp("types/pktinfo.lua")

--- The first cells of the rows of the table under heading `title`.
local function first_cells(title)
  local body = README:match("\n" .. title:gsub("%p", "%%%0") .. "\n(.-)\n#")
  assert(body, "README has no section " .. title)
  local cells = {}
  for row in body:gmatch("\n|([^\n]*)") do
    local cell = row:match("^%s*(.-)%s*|")
    if cell and not cell:match("^%-+$") and not cell:match("^:?%-") then cells[#cells + 1] = cell end
  end
  table.remove(cells, 1)   -- the header row
  return cells
end

--- Parameters of a README signature "(a [, b [, c]])": { {name, optional} }.
local function readme_params(args)
  local out, depth = {}, 0
  local i = 1
  while i <= #args do
    local c = args:sub(i, i)
    if c == "[" then depth = depth + 1 elseif c == "]" then depth = depth - 1 end
    local word = args:match("^[%a_][%w_]*", i)
    if word then
      out[#out + 1] = { word, depth > 0 }
      i = i + #word
    else
      i = i + 1
    end
  end
  return out
end

--- name -> params for every `prefix name(args)` in backticks of the cells.
local function readme_functions(cells, prefix)
  local fns = {}
  for _, cell in ipairs(cells) do
    for name, args in cell:gmatch("`" .. prefix .. "([%a_][%w_]*)(%b())`") do
      fns[name] = readme_params(args:sub(2, -2))
    end
  end
  return fns
end

--- The lines of the types file.
local LINES = {}
for l in (TYPES .. "\n"):gmatch("([^\n]*)\n") do LINES[#LINES + 1] = l end

--- The annotated functions `function <owner><sep>name(args)`: name -> params
-- (optional where its `---@param name?` says so).
local function type_functions(owner, sep)
  local fns, optional = {}, {}
  local pattern = "^function " .. owner .. sep:gsub("%p", "%%%0") .. "([%a_][%w_]*)(%b())"
  for _, l in ipairs(LINES) do
    local p, q = l:match("^%-%-%-@param ([%a_][%w_]*)(%??)")
    if p then optional[p] = q == "?" end
    local name, args = l:match(pattern)
    if name then
      local params = {}
      for a in args:gmatch("[%a_][%w_]*") do params[#params + 1] = { a, optional[a] or false } end
      fns[name] = params
    end
    if not l:match("^%-%-%-") then optional = {} end
  end
  return fns
end

--- The `---@field` names of `---@class name`.
local function class_fields(class)
  local fields, inside, found = {}, false, false
  for _, l in ipairs(LINES) do
    local c = l:match("^%-%-%-@class ([%w_.]+)")
    if c then inside = c == class; found = found or inside
    elseif not l:match("^%-%-%-") then inside = false
    elseif inside then
      local f = l:match("^%-%-%-@field ([%a_][%w_]*)")
      if f then fields[f] = true end
    end
  end
  assert(found, "no class " .. class)
  return fields
end

--- Asserts two name sets are equal, naming what each side lacks.
local function same_names(readme, types, what)
  local missing, extra = {}, {}
  for k in pairs(readme) do if types[k] == nil then missing[#missing + 1] = k end end
  for k in pairs(types) do if readme[k] == nil then extra[#extra + 1] = k end end
  table.sort(missing); table.sort(extra)
  assert.same({}, missing, what .. " in the README but not in types/pktinfo.lua")
  assert.same({}, extra, what .. " in types/pktinfo.lua but not in the README")
end

--- "name(a, b?, ...)" for messages.
local function show(params)
  local t = {}
  for i, p in ipairs(params) do t[i] = p[1] .. (p[2] and "?" or "") end
  return "(" .. table.concat(t, ", ") .. ")"
end

describe("types/pktinfo.lua", function()
  it("is a ---@meta file that compiles, and no rockspec installs it as a module", function()
    assert.matches("^%-%-%-@meta", TYPES)
    assert.is_function(loadfile("types/pktinfo.lua"))
    for _, spec in ipairs { "rockspec/lua-pktinfo-scm-1.rockspec", "rockspec/lua-pktinfo-" .. pktinfo._VERSION .. "-1.rockspec" } do
      local text = cli.slurp(spec)
      assert.is_nil(text:find('"types/', 1, true), spec)
    end
  end)

  it("annotates every socket method of the README's table, with its parameters, and no other", function()
    local readme = readme_functions(first_cells("### Socket methods"), "")
    local types = type_functions("socket", ":")
    same_names(readme, types, "socket methods")
    for name, params in pairs(readme) do
      assert.equal(show(params), show(types[name]), "parameters of " .. name)
    end
  end)

  it("annotates every field of the README's info table, and no other", function()
    local readme = {}
    for _, cell in ipairs(first_cells("### The info table")) do
      for f in cell:gmatch("`([%a_][%w_]*)`") do readme[f] = true end
    end
    same_names(readme, class_fields("pktinfo.info"), "info-table fields")
  end)

  it("annotates every module function and field of the README's table, and no other", function()
    local cells = first_cells("### Module")
    local readme_fns = readme_functions(cells, "pktinfo%.")
    local types_fns = type_functions("pktinfo", ".")
    same_names(readme_fns, types_fns, "module functions")
    for name, params in pairs(readme_fns) do
      assert.equal(show(params), show(types_fns[name]), "parameters of pktinfo." .. name)
    end
    local readme_fields = {}
    for _, cell in ipairs(cells) do
      for f in cell:gmatch("`pktinfo%.([%a_][%w_]*)`") do readme_fields[f] = true end
    end
    same_names(readme_fields, class_fields("pktinfo"), "module fields")
  end)

  it("names only methods and functions the module has", function()
    local s = assert(pktinfo.udp())
    for name in pairs(type_functions("socket", ":")) do
      assert.is_function(s[name], "socket:" .. name)
    end
    s:close()
    for name in pairs(type_functions("pktinfo", ".")) do
      assert.is_function(pktinfo[name], "pktinfo." .. name)
    end
    for name in pairs(class_fields("pktinfo")) do
      assert.is_not_nil(pktinfo[name], "pktinfo." .. name)
    end
  end)

  it("the spec's README parser finds what it should (a check of the check)", function()
    local methods = readme_functions(first_cells("### Socket methods"), "")
    assert.same({ { "size", true }, { "into", true } }, methods.recv)
    assert.same({ { "group", false }, { "iface", true }, { "source", true } }, methods.leave)
    assert.is_table(methods.getoption)
    assert.is_table(methods.timeout)
    local info = {}
    for _, cell in ipairs(first_cells("### The info table")) do
      for f in cell:gmatch("`([%a_][%w_]*)`") do info[#info + 1] = f end
    end
    assert.is_true(#info >= 13, table.concat(info, " "))
  end)
end)
