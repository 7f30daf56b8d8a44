local deleted = redis.call('DEL', unpack(KEYS))
if deleted == 0 then
  return nil
end
return {deleted, nil, kind = 'x'}
