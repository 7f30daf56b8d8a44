-- GCRA (generic cell rate algorithm) rate limiter, storing one timestamp.
-- KEYS[1]: theoretical arrival time. ARGV[1]: now (ms). ARGV[2]: emission interval (ms).
-- ARGV[3]: burst tolerance (ms). Returns {allowed (1/0), retry after (ms)}.
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
tat = math.max(tat, now)
local allow_at = tat - tolerance
if now < allow_at then
  return {0, allow_at - now}
end
local new_tat = tat + interval
-- Kept a minute past the arrival time: the caller's clock and the server's may differ.
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 60000)
return {1, 0}
