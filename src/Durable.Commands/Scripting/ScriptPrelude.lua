-- The environment Redis 7.0 gives a script or a function library, on Lua 5.4 (see ScriptEngine.cs). Run once when the
-- interpreter is created, with the engine's C# functions as its arguments; it leaves the globals read-only, as Redis
-- does. user_source names the chunks of user code ('@user_script' for EVAL, '@user_function' for FUNCTION LOAD);
-- raw_register is there for functions only.
local raw_call, raw_error_reply, raw_sha1hex, raw_log, raw_setresp, raw_killed, raw_json_encode, raw_json_decode, raw_acl_check, json_null, user_source, raw_register = ...
local user_chunk = user_source:sub(2)
local getinfo, sethook = debug.getinfo, debug.sethook
local error, type, tostring, tonumber, select, setmetatable = error, type, tostring, tonumber, select, setmetatable
local table_concat = table.concat

-- Redis luaPushError: an error is a table whose err field holds "CODE message".
local function fail(message)
  error({ err = 'ERR ' .. message }, 0)
end

local redis = {
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x0007000f,
}

function redis.call(...)
  local ok, result = raw_call(...)
  if not ok then
    error(result, 0)
  end
  return result
end

function redis.pcall(...)
  local _, result = raw_call(...)
  return result
end

function redis.acl_check_cmd(...)
  local ok, result = raw_acl_check(...)
  if not ok then
    error(result, 0)
  end
  return result
end

function redis.error_reply(...)
  local message = ...
  if select('#', ...) ~= 1 or type(message) ~= 'string' then
    return { err = 'ERR wrong number or type of arguments' }
  end
  return raw_error_reply(message)
end

function redis.status_reply(...)
  local status = ...
  if select('#', ...) ~= 1 or type(status) ~= 'string' then
    return { err = 'ERR wrong number or type of arguments' }
  end
  return { ok = status }
end

function redis.sha1hex(...)
  if select('#', ...) ~= 1 then
    fail('wrong number of arguments')
  end
  return raw_sha1hex((...))
end

function redis.log(...)
  local count = select('#', ...)
  if count < 2 then
    fail('redis.log() requires two arguments or more.')
  end
  local level = tonumber((...))
  if not level then
    fail('First argument must be a number (log level).')
  end
  if level < 0 or level > 3 then
    fail('Invalid debug level.')
  end
  local parts = {}
  for i = 2, count do
    local part = select(i, ...)
    if type(part) == 'string' or type(part) == 'number' then
      parts[#parts + 1] = tostring(part)
    end
  end
  raw_log(level, table_concat(parts, ' '))
end

function redis.setresp(...)
  if select('#', ...) ~= 1 then
    fail('redis.setresp() requires one argument.')
  end
  local resp = tonumber((...))
  if resp ~= 2 and resp ~= 3 then
    fail('RESP version must be 2 or 3.')
  end
  raw_setresp(resp)
end

-- Durable logs a script's effects whatever is asked here: the write-ahead log is not a replication stream.
function redis.set_repl(...)
  if select('#', ...) ~= 1 then
    fail('redis.set_repl() requires two arguments.')
  end
  local flags = tonumber((...)) or 0
  if flags < 0 or flags > 3 then
    fail('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
end

function redis.replicate_commands()
  return true
end

-- The Lua debugger (SCRIPT DEBUG) is not there: these do what they do in a script run without it.
function redis.breakpoint()
  return false
end

function redis.debug()
end

-- LuaBitOp, which Redis ships, on Lua 5.4's integer operators: results are signed 32-bit integers.
local function tobit(x)
  local n = math.tointeger(x) or math.floor(x)
  n = n & 0xFFFFFFFF
  if n >= 0x80000000 then
    n = n - 0x100000000
  end
  return n
end

local function fold(operation)
  return function(a, ...)
    local result = tobit(a)
    for i = 1, select('#', ...) do
      result = operation(result, tobit((select(i, ...))))
    end
    return tobit(result)
  end
end

local bit = {
  tobit = tobit,
  band = fold(function(a, b) return a & b end),
  bor = fold(function(a, b) return a | b end),
  bxor = fold(function(a, b) return a ~ b end),
  bnot = function(a) return tobit(~tobit(a)) end,
  lshift = function(a, n) return tobit(tobit(a) << (tobit(n) & 31)) end,
  rshift = function(a, n) return tobit((tobit(a) & 0xFFFFFFFF) >> (tobit(n) & 31)) end,
  -- A negative value is negative in all 64 bits, so a logical shift by less than 32 leaves its low 32 bits arithmetic.
  arshift = function(a, n) return tobit(tobit(a) >> (tobit(n) & 31)) end,
  rol = function(a, n)
    local x, s = tobit(a) & 0xFFFFFFFF, tobit(n) & 31
    return tobit((x << s) | (x >> (32 - s)))
  end,
  ror = function(a, n)
    local x, s = tobit(a) & 0xFFFFFFFF, tobit(n) & 31
    return tobit((x >> s) | (x << (32 - s)))
  end,
  bswap = function(a)
    local x = tobit(a) & 0xFFFFFFFF
    return tobit(((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24))
  end,
  tohex = function(a, n)
    n = n and tobit(n) or 8
    local upper = n < 0
    if upper then
      n = -n
    end
    local text = string.format('%08x', tobit(a) & 0xFFFFFFFF):sub(-math.min(n, 8))
    return upper and text:upper() or text
  end,
}

-- Lua 5.1 names scripts written for Redis use.
unpack = table.unpack
table.getn = function(t) return #t end
math.pow = function(x, y) return x ^ y end
string.gfind = string.gmatch
gcinfo = function() return math.floor(collectgarbage('count')) end
local real_load = load
load = function(chunk, name, _, env) return real_load(chunk, name, 't', env) end

-- What Redis leaves out of a script's reach.
print, dofile, loadfile, require, package, os, io, debug, utf8, warn = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil

-- SCRIPT KILL and FUNCTION KILL, and FUNCTION LOAD's time limit: checked every 100,000 instructions; raised again at
-- the next check if the script catches it.
sethook(function()
  local stop = raw_killed()
  if stop then
    error({ err = stop }, 0)
  end
end, '', 100000)

-- The script's line that last looked up a function of the library. A script that ends with `return redis.call(...)`
-- tail-calls it, and its own frame is gone by the time the call fails: its error then names this line, as Redis's
-- (whose library functions are C functions, which a tail call does not replace) names the line of the call.
local looked_up_at

local function track_lookup()
  local info = getinfo(3, 'Sl')
  if info and info.source == user_source then
    looked_up_at = info.currentline
  end
end

local function readonly(t, track)
  return setmetatable({}, {
    __index = track and function(_, name)
      track_lookup()
      return t[name]
    end or t,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end

-- Redis's pcall hands a script the message of an error table, not the table.
local real_pcall = pcall
local function caught(ok, ...)
  if ok then
    return true, ...
  end
  local e = ...
  if type(e) == 'table' and type(e.err) == 'string' then
    e = e.err
  end
  return false, e
end

-- Library functions written in Lua that may raise: found through the globals' guard, which notes the line.
local tracked = {}

function tracked.pcall(f, ...)
  return caught(real_pcall(f, ...))
end

-- Lua 5.1's error gives a number message its position too.
local real_error = error
function tracked.error(message, level)
  level = level or 1
  if type(message) == 'number' then
    message = tostring(message)
  end
  real_error(message, level > 0 and level + 1 or level)
end

local protected = {}
local real_rawset = rawset
function tracked.rawset(t, k, v)
  if protected[t] then
    real_error('Attempt to modify a readonly table', 0)
  end
  return real_rawset(t, k, v)
end

-- An error raised by a library function written in Lua, placed as Lua 5.1 places a C function's: at the script's line.
local function raise_at_caller(message)
  local info = getinfo(3, 'Sl')
  local line = info and info.source == user_source and info.currentline or looked_up_at
  if line then
    message = user_chunk .. ':' .. line .. ': ' .. message
  end
  error(message, 0)
end

-- lua-cjson, as Redis ships it (encode and decode with its default settings, and null).
local cjson = { null = json_null }

function cjson.encode(...)
  if select('#', ...) ~= 1 then
    raise_at_caller("bad argument #1 to 'encode' (expected 1 argument)")
  end
  local ok, result = raw_json_encode((...))
  if not ok then
    raise_at_caller(result)
  end
  return result
end

function cjson.decode(...)
  local text = ...
  if select('#', ...) ~= 1 then
    raise_at_caller("bad argument #1 to 'decode' (expected 1 argument)")
  end
  if type(text) ~= 'string' and type(text) ~= 'number' then
    raise_at_caller("bad argument #1 to 'decode' (string expected, got " .. type(text) .. ')')
  end
  local ok, result = raw_json_decode(tostring(text))
  if not ok then
    raise_at_caller(result)
  end
  return result
end

_G.redis = readonly(redis, true)
protected[_G.redis] = true
_G.cjson = readonly(cjson, true)
protected[_G.cjson] = true
_G.bit = readonly(bit)
for _, name in ipairs({ 'string', 'table', 'math', 'coroutine' }) do
  _G[name] = readonly(_G[name])
  protected[_G[name]] = true
end
protected[_G] = true
for name in pairs(tracked) do
  _G[name] = nil
end
getmetatable('').__metatable = readonly({ __index = _G.string })

local function nonexistent(name)
  return "Script attempted to access nonexistent global variable '" .. tostring(name) .. "'"
end

local function readonly_error()
  error('Attempt to modify a readonly table', 2)
end

-- A global that is not in _G: a library function written in Lua (noting the line it was looked up at), or an error.
local function global_index(_, name)
  if name == 'loadstring' then
    return nil
  end
  local found = tracked[name]
  if found then
    track_lookup()
    return found
  end
  error(nonexistent(name), 2)
end

setmetatable(_G, { __index = global_index, __newindex = readonly_error, __metatable = {} })

-- Redis's error handler: a string error becomes an error table, and the table learns where in the script it was
-- raised (the innermost frame of the script itself, not of this prelude or of a library function).
local function error_handler(e)
  local level = 2
  local info = getinfo(level, 'Sl')
  while info and info.source ~= user_source do
    level = level + 1
    info = getinfo(level, 'Sl')
  end
  if type(e) ~= 'table' then
    e = { err = 'ERR ' .. tostring(e) }
  end
  if info then
    e.source = info.source
    e.line = info.currentline
  elseif looked_up_at then
    e.source = user_source
    e.line = looked_up_at
  end
  looked_up_at = nil
  return e
end

if not raw_register then
  return error_handler
end

-- Function libraries (FUNCTION LOAD), as Redis 7.0's function_lua.c. A library's code runs once, at load, where its
-- globals hold nothing but a redis table of register_function, log and the constants; the functions it registers run
-- later with the globals a script has (without KEYS and ARGV: they get the keys and the arguments as parameters). Every
-- library's code gets function_env as its globals, which looks in the one or the other.
local flag_names = { ['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true, ['allow-cross-slot-keys'] = true }

-- Lua's lua_isstring: a number is a string too.
local function is_string(value)
  local kind = type(value)
  return kind == 'string' or kind == 'number'
end

local function read_flags(flags)
  local names = {}
  local i = 1
  while true do
    local flag = flags[i]
    if flag == nil then
      break
    end
    if not is_string(flag) or not flag_names[string.lower(tostring(flag))] then
      fail('unknown flag given')
    end
    names[#names + 1] = string.lower(tostring(flag))
    i = i + 1
  end
  return table_concat(names, ',')
end

local function register_function(...)
  local count = select('#', ...)
  if count < 1 or count > 2 then
    fail('wrong number of arguments to redis.register_function')
  end
  local name, callback, description, flags
  if count == 1 then
    local named = ...
    if type(named) ~= 'table' then
      fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
    end
    for key, value in next, named do
      if not is_string(key) then
        fail('named argument key given to redis.register_function is not a string')
      end
      local argument = string.lower(tostring(key))
      if argument == 'function_name' then
        if not is_string(value) then
          fail('function_name argument given to redis.register_function must be a string')
        end
        name = tostring(value)
      elseif argument == 'description' then
        if not is_string(value) then
          fail('description argument given to redis.register_function must be a string')
        end
        description = tostring(value)
      elseif argument == 'callback' then
        if type(value) ~= 'function' then
          fail('callback argument given to redis.register_function must be a function')
        end
        callback = value
      elseif argument == 'flags' then
        if type(value) ~= 'table' then
          fail('flags argument to redis.register_function must be a table representing function flags')
        end
        flags = read_flags(value)
      else
        fail('unknown argument given to redis.register_function')
      end
    end
    if not name then
      fail('redis.register_function must get a function name argument')
    end
    if not callback then
      fail('redis.register_function must get a callback argument')
    end
  else
    name, callback = ...
    if not is_string(name) then
      fail('first argument to redis.register_function must be a string')
    end
    if type(callback) ~= 'function' then
      fail('second argument to redis.register_function must be a function')
    end
    name = tostring(name)
  end
  local refusal = raw_register(name, callback, description, flags or '')
  if refusal then
    fail(refusal)
  end
end

-- What a library's code sees while it loads; a field it does not have is an error, as Redis's error metatable makes it.
local library_redis = {
  register_function = register_function, log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}
local library_api = {
  redis = setmetatable({}, {
    __index = function(_, name)
      local found = library_redis[name]
      if found == nil then
        error(nonexistent(name), 2)
      end
      return found
    end,
    __newindex = readonly_error,
    __metatable = false,
  }),
}

local loading = false
local real_globals = _G
local function_env = setmetatable({}, {
  __index = function(_, name)
    if loading then
      local found = library_api[name]
      if found == nil then
        error(nonexistent(name), 2)
      end
      return found
    end
    local found = rawget(real_globals, name)
    if found ~= nil then
      return found
    end
    -- A tail call: the library's code stays global_index's caller, for track_lookup's level and error's.
    return global_index(_, name)
  end,
  __newindex = readonly_error,
  __metatable = {},
})

local function set_loading(value)
  loading = value
end

return error_handler, function_env, set_loading
