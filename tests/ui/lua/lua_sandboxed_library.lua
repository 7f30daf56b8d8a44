local now = os.time()
redis.call('SET', KEYS[1], now)
return now
