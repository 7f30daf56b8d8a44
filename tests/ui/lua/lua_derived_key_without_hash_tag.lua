local key = KEYS[1]
local meta = key .. ':meta'
redis.call('HSET', meta, 'seen', 1)
return redis.call('EXISTS', key)
