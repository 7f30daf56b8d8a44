-- Fixed-window rate limiter: count requests per window, the counter expiring with it.
-- KEYS[1]: this window's counter. ARGV[1]: window length (s). ARGV[2]: limit.
-- Returns the count if allowed, or -1 once over the limit.
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if count > tonumber(ARGV[2]) then
  return -1
end
return count
