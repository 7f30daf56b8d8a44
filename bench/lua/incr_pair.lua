-- Increments KEYS[1] and KEYS[2]; returns the second's new value.
redis.call('INCR', KEYS[1])
return redis.call('INCR', KEYS[2])
