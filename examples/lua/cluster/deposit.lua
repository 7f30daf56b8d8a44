-- Adds ARGV[1] to the account KEYS[1] and to its bank's total KEYS[2] (same hash tag, same
-- slot). Returns the account's new balance.
redis.call('INCRBY', KEYS[2], ARGV[1])
return redis.call('INCRBY', KEYS[1], ARGV[1])
