-- Releases the lock KEYS[1] if owner ARGV[1] holds it: never someone else's lock.
-- Returns 1 if released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
