-- Unique visitors with HyperLogLog: add visitors and return the estimated count.
-- KEYS[1]: the HyperLogLog. ARGV: visitor ids. Returns the estimated number of uniques.
redis.call('PFADD', KEYS[1], unpack(ARGV))
return redis.call('PFCOUNT', KEYS[1])
