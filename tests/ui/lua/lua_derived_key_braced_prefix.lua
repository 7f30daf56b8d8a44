return redis.call('COPY', KEYS[1], '{archive}:' .. KEYS[1])
