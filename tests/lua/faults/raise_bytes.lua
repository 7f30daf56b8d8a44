-- Counts its runs in KEYS[1], then raises an error that quotes ARGV[1], bytes and all.
redis.call('INCR', KEYS[1])
error('bad key ' .. ARGV[1])
