-- Streams with consumer groups: create the group if needed, then read new entries.
-- KEYS[1]: the stream. ARGV[1]: group. ARGV[2]: consumer. ARGV[3]: count.
-- Returns the entries read, as XREADGROUP gives them (or {} when there are none).
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local created = redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return redis.error_reply(created.err)
end
local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', ARGV[3], 'STREAMS', stream, '>')
if not reply then
  return {}
end
return reply[1][2]
