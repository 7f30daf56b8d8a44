-- Appends ARGV[1] to the list, then returns ARGV[2] as an error reply: the write stays.
redis.call('RPUSH', KEYS[1], ARGV[1])
return redis.error_reply(ARGV[2])
