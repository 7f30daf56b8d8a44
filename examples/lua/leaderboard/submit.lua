-- Records score ARGV[2] for player ARGV[1] on the board KEYS[1] if it beats the player's best
-- (ZADD GT: a worse score never lowers a best one). Returns the player's rank, 1 the best.
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
return redis.call('ZREVRANK', KEYS[1], ARGV[1]) + 1
