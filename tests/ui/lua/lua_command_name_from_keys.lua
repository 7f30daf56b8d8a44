return redis.call(KEYS[1])
