local pushed = 0
for i = 1, #KEYS do
  -- In chunks: `unpack` gives at most 7,999 values.
  for first = 1, #ARGV, 1000 do
    pushed = redis.call('RPUSH', KEYS[i], unpack(ARGV, first, math.min(first + 999, #ARGV)))
  end
end
return pushed
