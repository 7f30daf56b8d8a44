-- Moves ARGV[1] units from KEYS[1] to KEYS[2] (both in one hash slot); returns both balances.
local amount = tonumber(ARGV[1])
local from = redis.call('DECRBY', KEYS[1], amount)
local to = redis.call('INCRBY', KEYS[2], amount)
return {from, to}
