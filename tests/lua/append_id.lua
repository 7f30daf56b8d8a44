-- Appends ARGV[1] to the list KEYS[1]; returns the list's new length.
return redis.call('RPUSH', KEYS[1], ARGV[1])
