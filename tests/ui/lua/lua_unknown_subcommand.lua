return redis.call('OBJECT', 'ENCODNG', KEYS[1])
