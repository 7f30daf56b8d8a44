function double(n)
  return n * 2
end
return double(tonumber(redis.call('GET', KEYS[1]) or '0'))
