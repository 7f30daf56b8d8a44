-- Reliable queue: put jobs taken before a deadline back on the pending list (RPOPLPUSH).
-- KEYS[1]: processing list. KEYS[2]: pending list. KEYS[3]: hash job -> taken at.
-- ARGV[1]: deadline (ms). Returns the number of jobs put back.
local processing, pending, taken = KEYS[1], KEYS[2], KEYS[3]
local deadline = tonumber(ARGV[1])
local requeued = 0
for _ = 1, redis.call('LLEN', processing) do
  local job = redis.call('RPOPLPUSH', processing, processing)
  local at = tonumber(redis.call('HGET', taken, job))
  if at and at < deadline then
    redis.call('LREM', processing, 1, job)
    redis.call('RPUSH', pending, job)
    redis.call('HDEL', taken, job)
    requeued = requeued + 1
  end
end
return requeued
