#!lua name=reads
redis.register_function{
  function_name = 'peek',
  callback = function(keys) return redis.call('INCR', keys[1]) end,
  flags = {'no-writes'},
}
