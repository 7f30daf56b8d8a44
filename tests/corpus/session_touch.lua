-- Sessions: update fields, renew the expiry and return the whole session.
-- KEYS[1]: the session hash. ARGV[1]: time to live (s). ARGV[2..]: field, value, ...
-- Returns the session as {field, value, ...}.
if #ARGV > 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
