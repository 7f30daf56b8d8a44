redis.call('INCR', KEYS[1])
return redis.call('INCR', 'stats:total-visits')
