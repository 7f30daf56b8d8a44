local lock = 'lock:' .. ARGV[1]
return redis.call('DEL', lock)
