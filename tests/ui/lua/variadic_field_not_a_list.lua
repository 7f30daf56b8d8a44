return redis.call('HSET', KEYS[1], unpack(ARGV)) -- redis-script: allow(unbounded_unpack)
