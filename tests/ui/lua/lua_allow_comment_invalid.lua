local value = redis.call('GET', KEYS[1])
return value -- redis-script: allow(undeclared_keys)
