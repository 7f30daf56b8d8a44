-- Fails in the way ARGV[1] names, each on its own line.
local mode = ARGV[1]
if mode == 'arithmetic' then
  return redis.call('GET', KEYS[1]) + 1
elseif mode == 'error' then
  error('custom failure')
elseif mode == 'wrongtype' then
  return redis.call('INCR', KEYS[1])
end
return 0
