local name = redis.call('HGET', KEYS[1], 'name')
return {name, nil, redis.call('HGET', KEYS[1], 'email')}
