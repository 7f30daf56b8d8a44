-- Valkey's name for `redis`: the struct declares a Valkey target.
local name = server.SERVER_NAME
return server.call('INCRBY', KEYS[1], ARGV[1])
