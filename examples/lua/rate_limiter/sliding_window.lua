-- A sliding-window rate limit: at most ARGV[2] requests in any ARGV[1] milliseconds for the
-- client whose log is the sorted set KEYS[1] (member: request id ARGV[3], score: time in ms).
--
-- Returns {1, requests left} when the request is allowed (and logged), or
-- {0, milliseconds until the oldest logged request leaves the window} when it is refused.
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
-- The server's clock, not the callers': every application server sees the same window.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
-- The log is only needed for one window; an idle client's log goes away by itself.
redis.call('PEXPIRE', KEYS[1], window)
return {1, limit - count - 1}
