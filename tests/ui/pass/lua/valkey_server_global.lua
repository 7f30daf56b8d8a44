-- `server` is Valkey's name for `redis`, checked as `redis` is; so are Valkey's version fields.
server.log(server.LOG_NOTICE, 'increment on ' .. server.SERVER_NAME .. ' ' .. redis.VALKEY_VERSION)
return server.call('INCRBY', KEYS[1], ARGV[1])
