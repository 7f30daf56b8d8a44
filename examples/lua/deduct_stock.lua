-- Places an order: takes ARGV[1] units from the stock in KEYS[1] and records the quantity in
-- the order's own key KEYS[2], all or nothing. Stock never goes below zero, and placing the
-- same order twice takes stock once.
--
-- Returns the stock left after the order, or
--   -1 when there is not enough stock (nothing changes),
--   -2 when the order was already placed (nothing changes).
local stock_key = KEYS[1]
local order_key = KEYS[2]
local quantity = tonumber(ARGV[1])

if quantity == nil or quantity <= 0 then
  return redis.error_reply('BADQTY quantity must be a positive integer')
end
if redis.call('EXISTS', order_key) == 1 then
  return -2
end
local stock = tonumber(redis.call('GET', stock_key) or '0')
if stock < quantity then
  return -1
end
redis.call('SET', order_key, quantity)
return redis.call('DECRBY', stock_key, quantity)
