--- @include "includes/keys"
--- @include "includes/time"
--- @include "includes/validate"
local attempts = positive('attempts', ARGV[3])
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', job_key(ARGV[1], id), 'data', ARGV[2], 'attempts', attempts, 'added', now_ms())
redis.call('HSET', ARGV[1] .. 'job:' .. id, 'state', 'waiting')
redis.call('RPUSH', KEYS[1], id)
return id
