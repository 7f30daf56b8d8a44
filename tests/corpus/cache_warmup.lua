-- Cache warm-up: set many cache entries that are missing, each with a time to live.
-- KEYS: the cache entries. ARGV[1]: time to live (s). ARGV[2..]: the values, one per key.
-- Returns how many entries were set (existing ones are left alone).
local ttl = ARGV[1]
local set = 0
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[i + 1], 'NX', 'EX', ttl) then
    set = set + 1
  end
end
return set
