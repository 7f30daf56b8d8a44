redis.call('CLIENT', 'NOHELLO', 'ON')
redis.call('GET', KEYS[1])
return redis.call('DELEX', KEYS[1], 'IFEQ', ARGV[1])
