#!lua name=valkey_counters
-- A library written against Valkey's `server` table (the same table as `redis`).
server.register_function('valkey_bump', function(keys, args)
  return server.call('INCRBY', keys[1], args[1])
end)
