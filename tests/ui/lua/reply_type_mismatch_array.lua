local value = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
return {value, ttl}
