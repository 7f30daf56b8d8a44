local name = redis.call('HGET', KEYS[1], 'name')
local visits = redis.call('HINCRBY', KEYS[1], 'visits', 1)
return {name = name, visits = visits}
