-- Streams: append an event and keep about the last N entries.
-- KEYS[1]: the stream. ARGV[1]: N. ARGV[2..]: field, value, field, value, ...
-- Returns {entry id, stream length}.
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 2))
return {id, redis.call('XLEN', KEYS[1])}
