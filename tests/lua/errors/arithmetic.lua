-- Adds to a counter read as a string: fails when the value is not a number.
local current = redis.call('GET', KEYS[1])
local next_value = current + ARGV[1]
return next_value
