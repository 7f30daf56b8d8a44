#!lua flags=no-write
return redis.call('PING')
