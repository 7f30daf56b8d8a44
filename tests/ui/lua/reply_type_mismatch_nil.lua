local current = redis.call('GET', KEYS[1])
if current == false then
  return nil
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
