local deleted = 0
for i = 1, #KEYS, 1000 do
  deleted = deleted + redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS)))
end
return deleted
