#!lua flags=no-writes
-- A counter sharded over several keys of one hash tag: the sum of the shards. Read-only.
-- KEYS: the shards. Returns the sum.
local total = 0
for _, value in ipairs(redis.call('MGET', unpack(KEYS))) do
  total = total + (tonumber(value) or 0)
end
return total
