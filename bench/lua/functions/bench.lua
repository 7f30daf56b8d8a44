#!lua name=bench
-- The body of lua/incr.lua as a function: increments keys[1]; returns the new value.
redis.register_function('bench_incr', function(keys, args) return redis.call('INCR', keys[1]) end)
