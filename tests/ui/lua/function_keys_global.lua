#!lua name=counters
redis.register_function('incr', function(keys)
  return redis.call('INCR', KEYS[1])
end)
