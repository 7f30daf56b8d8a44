-- Checks ARGV[1] in a function; a failure is caught with pcall and raised again.
local function parse(value)
  if not tonumber(value) then
    error('not a number: ' .. value)
  end
  return tonumber(value)
end

local ok, result = pcall(parse, ARGV[1])
if not ok then
  error(result)
end
return result
