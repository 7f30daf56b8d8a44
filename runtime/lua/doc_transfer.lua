-- Moves ARGV[1] from KEYS[1] to KEYS[2]; returns the new balance of KEYS[1].
redis.call('INCRBY', KEYS[2], ARGV[1])
return redis.call('DECRBY', KEYS[1], ARGV[1])
