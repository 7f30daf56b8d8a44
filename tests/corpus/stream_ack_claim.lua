-- Streams with consumer groups: acknowledge an entry, then claim entries idle too long.
-- KEYS[1]: the stream. ARGV[1]: group. ARGV[2]: consumer. ARGV[3]: entry id to acknowledge.
-- ARGV[4]: minimum idle time (ms).
-- Returns {acknowledged, pending after, ids claimed}.
local stream, group = KEYS[1], ARGV[1]
local acked = redis.call('XACK', stream, group, ARGV[3])
local claimed = redis.call('XAUTOCLAIM', stream, group, ARGV[2], ARGV[4], '0-0', 'COUNT', 10, 'JUSTID')
local pending = redis.call('XPENDING', stream, group)
return {acked, pending[1], claimed[2]}
