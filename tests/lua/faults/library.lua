#!lua name=faults
-- The library of tests/tests/faults.rs.

-- Counts its calls in keys[1].
local function count(keys, args)
  return redis.call('INCR', keys[1])
end

redis.register_function('faults_count', count)
