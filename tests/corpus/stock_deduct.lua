-- Stock deduction: take `quantity` items if enough are left.
-- KEYS[1]: the stock counter. ARGV[1]: quantity.
-- Returns the stock left, -1 if there is not enough, -2 if the item is unknown.
local stock = redis.call('GET', KEYS[1])
if not stock then
  return -2
end
local quantity = tonumber(ARGV[1])
if tonumber(stock) < quantity then
  return -1
end
return redis.call('DECRBY', KEYS[1], quantity)
