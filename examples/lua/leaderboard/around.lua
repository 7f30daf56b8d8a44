--- @include "includes/ranked"
-- Player ARGV[1] with up to ARGV[2] players above and below on the board KEYS[1]: rows
-- {rank, player, score}; empty when the player has no score.
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not rank then
  return {}
end
local first = math.max(0, rank - tonumber(ARGV[2]))
local last = rank + tonumber(ARGV[2])
return ranked(redis.call('ZREVRANGE', KEYS[1], first, last, 'WITHSCORES'), first + 1)
