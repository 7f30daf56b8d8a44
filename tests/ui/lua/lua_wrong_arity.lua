local value = redis.call('GET', KEYS[1], ARGV[1])
return value
