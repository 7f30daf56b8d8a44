total = 0
for _, value in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  total = total + tonumber(value)
end
return total
