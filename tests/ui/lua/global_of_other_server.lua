-- Valkey's name for `redis`; Redis has no `server`.
return server.call('INCRBY', KEYS[1], ARGV[1])
