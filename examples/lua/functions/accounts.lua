#!lua name=accounts
-- Accounts kept as integer balances (cents). Every function takes its account keys first;
-- amounts are whole cents, checked here so that a caller cannot move a fraction or a negative.

local function cents(value)
  local amount = tonumber(value)
  if amount == nil or amount <= 0 or amount % 1 ~= 0 then
    return redis.error_reply('ERR amount must be a positive whole number of cents')
  end
  return amount
end

-- Adds args[1] cents to keys[1]; returns the new balance.
local function deposit(keys, args)
  local amount = cents(args[1])
  if type(amount) == 'table' then return amount end
  return redis.call('INCRBY', keys[1], amount)
end

-- Takes args[1] cents from keys[1] if the balance covers them; returns the new balance, or
-- an error reply (nothing written) if it does not.
local function withdraw(keys, args)
  local amount = cents(args[1])
  if type(amount) == 'table' then return amount end
  local balance = tonumber(redis.call('GET', keys[1]) or '0')
  if balance < amount then
    return redis.error_reply('INSUFFICIENT balance ' .. balance .. ' < ' .. amount)
  end
  return redis.call('DECRBY', keys[1], amount)
end

-- Moves args[1] cents from keys[1] to keys[2] if keys[1] covers them; returns the new
-- balance of keys[2]. Both accounts must share a hash tag on a cluster.
local function transfer(keys, args)
  local amount = cents(args[1])
  if type(amount) == 'table' then return amount end
  local balance = tonumber(redis.call('GET', keys[1]) or '0')
  if balance < amount then
    return redis.error_reply('INSUFFICIENT balance ' .. balance .. ' < ' .. amount)
  end
  redis.call('DECRBY', keys[1], amount)
  return redis.call('INCRBY', keys[2], amount)
end

-- Reads a balance (0 for an account never used). `no-writes`: called with FCALL_RO, which
-- replicas serve.
local function balance(keys, args)
  return tonumber(redis.call('GET', keys[1]) or '0')
end

redis.register_function('acct_deposit', deposit)
redis.register_function('acct_withdraw', withdraw)
redis.register_function('acct_transfer', transfer)
redis.register_function{function_name = 'acct_balance', callback = balance, flags = {'no-writes'}}
