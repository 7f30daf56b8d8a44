-- ARGV[3] is optional: nil when an old caller does not send it (allowed on the struct).
local step = tonumber(ARGV[3] or '1')
-- The statistics key is global on purpose; this script runs on one server only.
-- redis-script: allow(undeclared_key)
redis.call('INCR', 'stats:legacy_calls')
return redis.call('INCRBY', KEYS[1], ARGV[1] * step)
