#!lua flags=no-cluster,no-writes
-- A global feature-flag table at a fixed key, for standalone servers only: `no-cluster`
-- allows a literal key name. ARGV[1]: the flag. Returns the flag's value, or nil.
return redis.call('HGET', 'config:feature-flags', ARGV[1])
