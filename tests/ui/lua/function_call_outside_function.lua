#!lua name=counters
local start = redis.call('GET', 'counters:start')
redis.register_function('incr', function(keys) return redis.call('INCR', keys[1]) end)
