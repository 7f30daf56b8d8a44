local function check(value)
  if value == '' then error('empty value') end
end
