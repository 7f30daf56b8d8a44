-- Pushes onto a key that may hold a string: WRONGTYPE from the failed redis.call.
local length = redis.call('STRLEN', KEYS[1])
redis.call('LPUSH', KEYS[1], ARGV[1])
return length
