-- Sliding-window rate limiter: at most `limit` requests in any `window` milliseconds.
-- KEYS[1]: the window (a sorted set of request ids scored by time).
-- ARGV[1]: now (ms). ARGV[2]: window (ms). ARGV[3]: limit. ARGV[4]: request id.
-- Returns {allowed (1/0), requests in the window}.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  return {0, count}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, count + 1}
