return redis.call('OBJECT')
