-- Reserves seat ARGV[1] of the show whose seat map is the hash KEYS[1] for ARGV[2], and counts
-- the show's reservations in KEYS[2]. Returns 1 if reserved, 0 if the seat was taken.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
