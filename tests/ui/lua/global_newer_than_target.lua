local started = os.clock()
redis.call('INCR', KEYS[1])
return math.floor((os.clock() - started) * 1000000)
