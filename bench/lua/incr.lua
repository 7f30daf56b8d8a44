-- Increments KEYS[1]; returns the new value.
return redis.call('INCR', KEYS[1])
