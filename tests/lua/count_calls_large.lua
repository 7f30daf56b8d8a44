-- A job-queue-sized script: helpers, then the work of count_calls.lua.
--- @include "../../bench/lua/large_helpers"
redis.call('RPUSH', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])
