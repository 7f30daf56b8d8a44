-- Returns every key, then every argument, as received.
local out = {}
for _, key in ipairs(KEYS) do
  out[#out + 1] = key
end
for _, arg in ipairs(ARGV) do
  out[#out + 1] = arg
end
return out
