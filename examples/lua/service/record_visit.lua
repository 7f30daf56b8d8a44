-- Counts a visit of user ARGV[1] to a page: total visits in KEYS[1], distinct visitors in the
-- HyperLogLog KEYS[2] (12 KB whatever the number of visitors, exact for small counts).
-- Returns {visits, distinct visitors}.
local visits = redis.call('INCR', KEYS[1])
redis.call('PFADD', KEYS[2], ARGV[1])
return {visits, redis.call('PFCOUNT', KEYS[2])}
