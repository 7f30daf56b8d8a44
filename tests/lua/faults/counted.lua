-- Counts its runs in KEYS[1]. No #! line: Redis checks memory at its first write, INCR.
return redis.call('INCR', KEYS[1])
