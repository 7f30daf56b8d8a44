-- Delayed queue: move jobs whose time has come to the ready list.
-- KEYS[1]: delayed jobs (sorted set scored by due time). The ready list is derived from it:
-- KEYS[1] .. ':ready', which shares its hash tag. ARGV[1]: now. ARGV[2]: most jobs to move.
-- Returns the jobs moved.
local delayed = KEYS[1]
local ready = delayed .. ':ready'
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, job in ipairs(due) do
  redis.call('ZREM', delayed, job)
  redis.call('RPUSH', ready, job)
end
return due
