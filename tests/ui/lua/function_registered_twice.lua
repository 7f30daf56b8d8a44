#!lua name=counters
redis.register_function('incr', function(keys) return redis.call('INCR', keys[1]) end)
redis.register_function('incr', function(keys) return redis.call('INCRBY', keys[1], 2) end)
