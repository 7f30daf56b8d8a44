-- Distributed lock: take the lock if it is free, with an owner token and a lease.
-- KEYS[1]: the lock. ARGV[1]: the owner's token. ARGV[2]: the lease in milliseconds.
-- Returns 1 if the lock was taken, 0 if someone else holds it.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
