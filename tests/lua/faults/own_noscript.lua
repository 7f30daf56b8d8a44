-- Counts its runs, then answers with an error code the server also uses: it ran all the same.
redis.call('INCR', KEYS[1])
return redis.error_reply('NOSCRIPT of this script\'s own choosing')
