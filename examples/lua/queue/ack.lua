-- A worker finished job ARGV[1]: removes it from the processing list KEYS[1] and from the
-- deadlines KEYS[2]. Returns 1, or 0 when the job was not being processed (already requeued
-- after its deadline, or acknowledged twice).
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
