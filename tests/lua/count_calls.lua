-- Counts its invocations and records each caller's id, in order.
redis.call('RPUSH', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])
