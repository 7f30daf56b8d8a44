-- Takes the lock KEYS[1] for owner ARGV[1] for ARGV[2] milliseconds, unless someone holds it.
-- Returns the new fencing token, or -1 when the lock is held. The token counter sits next to
-- the lock, under the same hash tag (so in the same cluster slot), and is never reset or
-- expired: tokens only grow.
local fence = KEYS[1] .. ':fence'
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', fence)
end
return -1
