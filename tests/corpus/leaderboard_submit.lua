-- Leaderboard: keep a player's best score and return the player's rank (0 = first).
-- KEYS[1]: the leaderboard. ARGV[1]: player. ARGV[2]: score.
-- Returns {best score, rank}.
local board = KEYS[1]
local player = ARGV[1]
redis.call('ZADD', board, 'GT', ARGV[2], player)
local best = redis.call('ZSCORE', board, player)
local rank = redis.call('ZREVRANK', board, player)
return {tonumber(best), rank}
