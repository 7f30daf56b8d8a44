-- Puts back every job whose deadline in KEYS[3] has passed: out of the processing list KEYS[2],
-- onto the end of the queue KEYS[1] that workers pop next. Returns how many went back.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, job in ipairs(expired) do
  redis.call('LREM', KEYS[2], 1, job)
  redis.call('RPUSH', KEYS[1], job)
  redis.call('ZREM', KEYS[3], job)
end
return #expired
