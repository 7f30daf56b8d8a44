-- A job-queue-sized script (about 25 KB): helpers, then INCR KEYS[1].
--- @include "large_helpers"
return redis.call('INCR', KEYS[1])
