local pushed = 0
for i = 1, #KEYS do
  pushed = redis.call('RPUSH', KEYS[i], unpack(ARGV))
end
return pushed
