-- error() with a table: its `err` is the reply, with its own error code.
if redis.call('EXISTS', KEYS[1]) == 1 then
  error({err = 'QUOTA exceeded for ' .. KEYS[1]})
end
return 0
