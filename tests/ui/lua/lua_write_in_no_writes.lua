#!lua flags=no-writes
-- Meant to be read-only, but counts the visit too.
return redis.call('INCR', KEYS[1])
