return redis.call('INCRR', KEYS[1])
