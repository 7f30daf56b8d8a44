#!lua name=fn_bank
-- The library of the real-server tests of Redis 7 functions (tests/tests/functions.rs).

-- Moves `amount` from keys[1] to keys[2]; returns the new balance of keys[2].
local function transfer(keys, args)
  local amount = tonumber(args[1])
  if amount == nil then
    error('amount is not a number: ' .. tostring(args[1]))
  end
  redis.call('DECRBY', keys[1], amount)
  return redis.call('INCRBY', keys[2], amount)
end

-- One call, one entry in the log keys[2] and one increment of keys[1]: counts runs exactly.
local function count_call(keys, args)
  redis.call('RPUSH', keys[2], args[1])
  return redis.call('INCR', keys[1])
end

-- Reads a balance; `no-writes`, so FCALL_RO, which replicas serve.
local function balance(keys, args)
  return tonumber(redis.call('GET', keys[1]) or '0')
end

-- No keys and no `no-writes`: Redis runs it on primaries only. Returns the node's role.
local function role(keys, args)
  local info = redis.call('INFO', 'replication')
  return string.match(info, 'role:(%a+)')
end

-- Runs for args[1] milliseconds, so that other calls meet a busy server.
local function spin(keys, args)
  local time = redis.call('TIME')
  local stop = tonumber(time[1]) * 1000000 + tonumber(time[2]) + tonumber(args[1]) * 1000
  repeat
    time = redis.call('TIME')
  until tonumber(time[1]) * 1000000 + tonumber(time[2]) >= stop
  return 'done'
end

redis.register_function('fn_transfer', transfer)
redis.register_function('fn_count_call', count_call)
redis.register_function{function_name = 'fn_balance', callback = balance, flags = {'no-writes'}}
redis.register_function('fn_role', role)
redis.register_function{function_name = 'fn_spin', callback = spin, flags = {'no-writes'}}
