local amount = redis.call('GET', KEYS[1])
redis.call('INCRBY', KEYS[2], amount)
redis.call('DEL', KEYS[1], KEYS[3])
return amount
