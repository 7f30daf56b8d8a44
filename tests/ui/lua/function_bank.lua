#!lua name=bank
local function transfer(accounts, amounts)
  redis.call('DECRBY', accounts[1], amounts[1])
  return redis.call('INCRBY', accounts[2], amounts[1])
end
redis.register_function('transfer', transfer)
redis.register_function{
  function_name = 'balance',
  callback = function(keys) return redis.call('GET', keys[1]) end,
  flags = {'no-writes'},
}
