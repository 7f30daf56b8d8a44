redis.log(redis.LOG_NOTICE, 'running on ' .. redis.SERVER_NAME)
return redis.call('INCR', KEYS[1])
