-- Distributed lock: extend the lease if this owner still holds the lock.
-- KEYS[1]: the lock. ARGV[1]: the owner's token. ARGV[2]: the new lease in milliseconds.
-- Returns the remaining lease in milliseconds, or -1 if the lock is not ours.
local lock = KEYS[1]
local token, lease = ARGV[1], ARGV[2]
if redis.call('GET', lock) ~= token then
  return -1
end
redis.call('PEXPIRE', lock, lease)
return redis.call('PTTL', lock)
