-- Extends the lock KEYS[1] to ARGV[2] milliseconds from now, if owner ARGV[1] still holds it.
-- Returns 1 if extended, 0 if the lock expired or belongs to someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
