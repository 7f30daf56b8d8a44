#!lua
redis.register_function('incr', function(keys) return redis.call('INCR', keys[1]) end)
