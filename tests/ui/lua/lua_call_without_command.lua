return redis.call()
