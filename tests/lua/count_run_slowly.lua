-- Busy-loops ARGV[2] times, then counts one more run of the id ARGV[1] in the hash KEYS[1] and
-- returns the count: 1 on the first run, 2 if the id ran twice. The loop makes a pipeline of
-- them slow enough to be cut by a crash.
local spin = tonumber(ARGV[2])
local i = 0
while i < spin do
  i = i + 1
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
