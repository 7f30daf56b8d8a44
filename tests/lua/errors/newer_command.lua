redis.call('HSET', KEYS[1], ARGV[1], 1)
return redis.call('DELEX', KEYS[1], 'IFEQ', ARGV[1])
