-- Returns a reply of the shape ARGV[1] names.
local shape = ARGV[1]
if shape == 'integer' then
  return 42
elseif shape == 'string' then
  return 'forty-two'
elseif shape == 'nil' then
  return nil
elseif shape == 'true' then
  return true
elseif shape == 'list' then
  return { 'a', 'b', 'c' }
elseif shape == 'pair' then
  return { 7, 'seven' }
elseif shape == 'status' then
  return redis.status_reply('FINE')
end
return redis.error_reply('BADSHAPE unknown shape ' .. tostring(shape))
