return redis.call('GET', ARGV[1] .. KEYS[1])
