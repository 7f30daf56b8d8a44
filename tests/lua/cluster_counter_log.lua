-- Counts its invocations in KEYS[1] and appends ARGV[1], the invocation's id, to KEYS[2].
redis.call('RPUSH', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])
