-- Charges ARGV[1] cents to the balance KEYS[1], once per request id: KEYS[2] records the
-- request with the balance it left, for ARGV[2] seconds. Sending the same request again
-- changes nothing and answers what the first one answered, so a caller that does not know
-- whether its request ran can simply send it again.
local recorded = redis.call('GET', KEYS[2])
if recorded then
  return tonumber(recorded)
end
local balance = redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], balance, 'EX', ARGV[2])
return balance
