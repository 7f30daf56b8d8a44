redis.call('CLIENT', 'NO-TOUCH', 'ON')
return redis.call('GET', KEYS[1])
