redis.call('HSET', KEYS[1], ARGV[1], 1)
return redis.call('HEXPIRE', KEYS[1], 60, 'FIELDS', 1, ARGV[1])[1]
