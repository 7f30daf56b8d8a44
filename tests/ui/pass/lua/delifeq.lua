return redis.call('DELIFEQ', KEYS[1], ARGV[1])
