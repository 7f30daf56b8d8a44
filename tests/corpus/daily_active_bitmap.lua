-- Daily active users in a bitmap: mark a user and count today's actives.
-- KEYS[1]: today's bitmap. ARGV[1]: user number. ARGV[2]: time to keep the bitmap (s).
-- Returns {was already active (0/1), actives today}.
local before = redis.call('SETBIT', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {before, redis.call('BITCOUNT', KEYS[1])}
