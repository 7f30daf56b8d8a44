-- Reliable queue: acknowledge a finished job.
-- KEYS[1]: processing list. KEYS[2]: hash job -> taken at. ARGV[1]: the job.
-- Returns 1 if the job was being processed, 0 otherwise.
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
