return redis.call('SUNIONSTORE', KEYS[#KEYS], unpack(KEYS, 1, #KEYS - 1))
