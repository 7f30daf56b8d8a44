-- Transfer between two accounts of one bank, refusing overdrafts.
-- KEYS[1]: from. KEYS[2]: to (both with the bank's hash tag). ARGV[1]: amount.
-- Returns {from balance, to balance}, or an error reply when funds are short.
local amount = tonumber(ARGV[1])
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
if balance < amount then
  return redis.error_reply('INSUFFICIENT_FUNDS balance ' .. balance .. ' < ' .. amount)
end
return {redis.call('DECRBY', KEYS[1], amount), redis.call('INCRBY', KEYS[2], amount)}
