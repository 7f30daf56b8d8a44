redis.call('HSET', ARGV[1] .. ARGV[2], 'state', 'waiting')
return redis.call('RPUSH', KEYS[1], ARGV[2])
