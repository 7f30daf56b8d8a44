#!lua flags=no-writes
return redis.call('PUBLISH', 'news', ARGV[1])
