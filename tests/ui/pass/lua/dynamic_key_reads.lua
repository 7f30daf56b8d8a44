local count = 0
for _, key in ipairs(KEYS) do
  count = count + redis.call('EXISTS', key)
end
return count
