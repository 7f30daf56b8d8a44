return redis.call('DEL', unpack(KEYS)) -- redis-script: allow(unbounded_unpack)
