#!lua flags=no-writes
-- Leaderboard: the players ranked around one player, with ranks. Read-only.
-- KEYS[1]: the leaderboard. ARGV[1]: player. ARGV[2]: how many on each side.
-- Returns {rank of the first, player, player, ...}, or {} for an unknown player.
local board = KEYS[1]
local rank = redis.call('ZREVRANK', board, ARGV[1])
if not rank then
  return {}
end
local around = tonumber(ARGV[2])
local first = math.max(0, rank - around)
local players = redis.call('ZREVRANGE', board, first, rank + around)
local result = {first}
for _, player in ipairs(players) do
  result[#result + 1] = player
end
return result
