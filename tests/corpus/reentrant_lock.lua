-- A reentrant lock: the owner may take it again; each take must be released.
-- KEYS[1]: the lock (a hash owner -> count). ARGV[1]: owner. ARGV[2]: lease in milliseconds.
-- Returns the owner's hold count, or 0 if another owner holds the lock.
local lock = KEYS[1]
local owner, lease = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', lock) == 0 or redis.call('HEXISTS', lock, owner) == 1 then
  local count = redis.call('HINCRBY', lock, owner, 1)
  redis.call('PEXPIRE', lock, lease)
  return count
end
return 0
