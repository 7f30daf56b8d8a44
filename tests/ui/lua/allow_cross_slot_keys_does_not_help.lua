#!lua flags=allow-cross-slot-keys
return redis.call('RENAME', KEYS[1], KEYS[2])
