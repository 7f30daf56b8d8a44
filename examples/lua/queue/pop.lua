-- Hands the oldest job of the queue KEYS[1] to a worker: moves it to the processing list
-- KEYS[2] and records in KEYS[3] (sorted set, score: deadline in ms) that it must be
-- acknowledged within ARGV[1] milliseconds, or it goes back to the queue.
-- Returns the job, or nil when the queue is empty.
local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if not job then
  return false
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), job)
return job
