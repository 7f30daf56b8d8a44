#!lua flags=no-writes
-- Pagination over a sorted set, newest first, with the total count. Read-only.
-- KEYS[1]: the sorted set (scored by time). ARGV[1]: page (from 1). ARGV[2]: page size.
-- Returns {total, member, member, ...}.
local page = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local items = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '-inf', 'LIMIT', (page - 1) * size, size)
table.insert(items, 1, redis.call('ZCARD', KEYS[1]))
return items
