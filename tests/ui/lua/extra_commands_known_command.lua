return redis.call('HINCRBY', KEYS[1], 'n', 1)
