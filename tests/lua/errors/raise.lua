-- Refuses to go over a quota with error(), which Lua reports at this line.
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  error('quota exceeded: ' .. used)
end
return used
