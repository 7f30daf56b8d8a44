#!lua name=x
return redis.call('PING')
