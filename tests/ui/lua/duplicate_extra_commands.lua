return redis.call('HEXPIRE', KEYS[1], 60, 'FIELDS', 1, 'f')
