-- Adds points to a player's score.
local total = redis.call('HINCRBYY', KEYS[1], ARGV[1], ARGV[2])
return total
