-- Deduplication of a batch: which ids were not seen before (and remember them).
-- KEYS[1]: the set of seen ids. ARGV: the ids. Returns the new ids, in order.
local fresh = {}
for _, id in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], id) == 1 then
    fresh[#fresh + 1] = id
  end
end
return fresh
