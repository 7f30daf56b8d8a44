-- Reliable queue: move the next job to the processing list and record when it was taken.
-- KEYS[1]: pending list. KEYS[2]: processing list. KEYS[3]: hash job -> taken at.
-- ARGV[1]: now (ms). Returns the job, or nil when the queue is empty.
local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if job then
  redis.call('HSET', KEYS[3], job, ARGV[1])
end
return job
