-- Places order ARGV[1] for ARGV[2] units: takes them from the stock in KEYS[1] and records the
-- order in the hash KEYS[2], all or nothing. Stock never goes below zero, and placing the same
-- order twice takes stock once.
--
-- Returns the stock left after the order, or
--   -1 when there is not enough stock (nothing changes),
--   -2 when the order was already placed (nothing changes).
local stock_key = KEYS[1]
local orders_key = KEYS[2]
local order_id = ARGV[1]
local quantity = tonumber(ARGV[2])

if quantity == nil or quantity <= 0 then
  return redis.error_reply('BADQTY quantity must be a positive integer')
end
if redis.call('HEXISTS', orders_key, order_id) == 1 then
  return -2
end
local stock = tonumber(redis.call('GET', stock_key) or '0')
if stock < quantity then
  return -1
end
redis.call('HSET', orders_key, order_id, quantity)
return redis.call('DECRBY', stock_key, quantity)
