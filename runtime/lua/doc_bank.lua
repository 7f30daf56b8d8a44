#!lua name=doc_bank
local function doc_transfer(keys, args)
  local amount = tonumber(args[1])
  redis.call('DECRBY', keys[1], amount)
  return redis.call('INCRBY', keys[2], amount)
end
redis.register_function('doc_transfer', doc_transfer)
