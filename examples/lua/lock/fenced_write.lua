-- The protected resource's side of fencing: writes ARGV[2] to KEYS[1] only if the fencing
-- token ARGV[1] is at least the highest one seen (KEYS[2]), so a holder whose lock expired
-- while it was paused cannot overwrite the work of the next holder.
-- Returns 1 if written, 0 if the token is stale.
local token = tonumber(ARGV[1])
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
if token < highest then
  return 0
end
redis.call('SET', KEYS[2], token)
redis.call('SET', KEYS[1], ARGV[2])
return 1
