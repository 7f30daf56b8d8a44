#!python
return redis.call('PING')
