-- Counts its runs in KEYS[1], then returns ARGV[1] as its error reply: bytes that need not be
-- valid UTF-8, which the redis crate (1.8) cannot parse in an error line.
redis.call('INCR', KEYS[1])
return redis.error_reply(ARGV[1])
