-- SET with the values in ARGV: with no value, Redis refuses the call at run time.
redis.call('SET', KEYS[1], unpack(ARGV))
return 1
