-- Busy-loops ARGV[1] times without touching keys.
local n = tonumber(ARGV[1])
local i = 0
while i < n do
  i = i + 1
end
return i
