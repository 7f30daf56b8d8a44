#!lua
-- Counts its runs in KEYS[1]. A #! line without no-writes: Redis checks memory before running it.
return redis.call('INCR', KEYS[1])
