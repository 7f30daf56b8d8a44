#!lua flags=no-writes
-- Reads KEYS[1]; may run on a replica.
return redis.call('GET', KEYS[1])
