-- Stock deduction for a whole order, all or nothing.
-- KEYS[1]: the inventory hash (sku -> count). ARGV: sku1, quantity1, sku2, quantity2, ...
-- Returns 1 if every line was deducted, else {0, first sku that is short}.
local inventory = KEYS[1]
for i = 1, #ARGV, 2 do
  local available = tonumber(redis.call('HGET', inventory, ARGV[i]) or '0')
  if available < tonumber(ARGV[i + 1]) then
    return {0, ARGV[i]}
  end
end
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', inventory, ARGV[i], -tonumber(ARGV[i + 1]))
end
return 1
