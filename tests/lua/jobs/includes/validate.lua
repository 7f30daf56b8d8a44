-- Checks what callers send before anything is written.
local function positive(name, value)
  local number = tonumber(value)
  if number == nil or number <= 0 then
    error('invalid ' .. name .. ': ' .. tostring(value))
  end
  return number
end
