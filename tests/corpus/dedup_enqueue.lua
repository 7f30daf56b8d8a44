-- Deduplication: enqueue an event once, remembering seen ids in a set for a while.
-- KEYS[1]: the set of seen ids. KEYS[2]: the queue. ARGV[1]: event id. ARGV[2]: memory (s).
-- Returns 1 if enqueued, 0 for a duplicate.
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
