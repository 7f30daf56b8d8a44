redis.call('DECR', KEYS[1])
return redis.call('INCR', KEYS[2])
