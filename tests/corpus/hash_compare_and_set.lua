-- Optimistic update of a hash field: set it only if it still has the expected value.
-- KEYS[1]: the hash. ARGV[1]: field. ARGV[2]: expected value ('' for absent). ARGV[3]: new value.
-- Returns 1 if updated, 0 if the field had changed.
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
