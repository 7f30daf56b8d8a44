local wanted = tonumber(ARGV[1])
local available = tonumber(redis.call('GET', KEYS[1]) or '0')
local moved = math.min(wanted, available)
if moved > 0 then
  redis.call('DECRBY', KEYS[1], moved)
  redis.call('INCRBY', KEYS[2], moved)
end
return moved
