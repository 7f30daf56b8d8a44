--- @include "includes/ranked"
-- The ARGV[1] best players of the board KEYS[1]: rows {rank, player, score}.
local count = tonumber(ARGV[1])
return ranked(redis.call('ZREVRANGE', KEYS[1], 0, count - 1, 'WITHSCORES'), 1)
