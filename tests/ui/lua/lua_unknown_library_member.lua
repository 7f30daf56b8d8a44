local fields = cjson.decod(ARGV[1])
return redis.call('SET', KEYS[1], cjson.encode(fields))
