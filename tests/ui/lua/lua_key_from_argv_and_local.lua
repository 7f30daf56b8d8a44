local id = redis.call('INCR', KEYS[1])
redis.call('SET', ARGV[1] .. id, 'new')
return id
