return redis.call('SADD', KEYS[1], unpack(ARGV))
