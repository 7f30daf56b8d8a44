-- Cache stampede protection: return the cached value, or let exactly one caller rebuild it.
-- KEYS[1]: the cached value; its rebuild lock is KEYS[1] .. ':lock' (same hash tag).
-- ARGV[1]: the caller's token. ARGV[2]: lock lease (ms).
-- Returns {'hit', value}, {'rebuild'} for the caller that got the lock, or {'wait'}.
local value = redis.call('GET', KEYS[1])
if value then
  return {'hit', value}
end
local lock = KEYS[1] .. ':lock'
if redis.call('SET', lock, ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'rebuild'}
end
return {'wait'}
