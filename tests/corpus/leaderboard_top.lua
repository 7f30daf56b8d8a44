#!lua flags=no-writes
-- Leaderboard: the top N players with their scores, best first. Read-only.
-- KEYS[1]: the leaderboard. ARGV[1]: N.
-- Returns {player, score, player, score, ...}.
return redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
