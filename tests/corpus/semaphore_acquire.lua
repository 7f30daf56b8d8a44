-- A counting semaphore with expiring holders, in a sorted set scored by expiry time.
-- KEYS[1]: the semaphore. ARGV[1]: holder id. ARGV[2]: now (ms). ARGV[3]: lease (ms).
-- ARGV[4]: the number of holders allowed. Returns 1 if acquired, 0 if full.
local semaphore = KEYS[1]
local holder = ARGV[1]
local now, lease, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', semaphore, '-inf', now)
if redis.call('ZSCORE', semaphore, holder) then
  redis.call('ZADD', semaphore, now + lease, holder)
  return 1
end
if redis.call('ZCARD', semaphore) >= limit then
  return 0
end
redis.call('ZADD', semaphore, now + lease, holder)
return 1
