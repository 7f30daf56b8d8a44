redis.call('DECRBY', KEYS[1], ARGV[1])
for i = 3, #KEYS do
  redis.call('RPUSH', KEYS[i], ARGV[1])
end
return redis.call('INCRBY', KEYS[2], ARGV[1])
