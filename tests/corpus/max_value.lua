-- Keep the largest value seen, with a local helper function.
-- KEYS[1]: the maximum. ARGV[1]: a new value. Returns the maximum after the update.
local function as_number(text)
  return tonumber(text) or -math.huge
end
local current = redis.call('GET', KEYS[1])
local candidate = tonumber(ARGV[1])
if candidate > as_number(current) then
  redis.call('SET', KEYS[1], ARGV[1])
  return candidate
end
return tonumber(current)
