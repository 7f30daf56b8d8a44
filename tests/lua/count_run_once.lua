-- Counts a run of the id ARGV[1] in the hash KEYS[1] only if it has none yet: the idempotency
-- check with which an invocation of unknown outcome is sent again. Returns 1 if it counted
-- the run now, 0 if the id had run already.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return 0
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
