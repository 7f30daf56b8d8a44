-- A counter that expires a fixed time after its first increment.
-- KEYS[1]: the counter. ARGV[1]: increment. ARGV[2]: time to live (s).
-- Returns {value, seconds left}.
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {value, ttl}
