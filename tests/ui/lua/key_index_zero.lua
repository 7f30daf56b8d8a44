local previous = redis.call('GET', KEYS[0])
redis.call('SET', KEYS[1], 'new')
return previous
