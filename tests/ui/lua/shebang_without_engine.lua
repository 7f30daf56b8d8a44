#!
return redis.call('PING')
