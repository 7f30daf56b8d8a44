#!lua flags=no-writes
-- Pagination over a list with the page count. Read-only.
-- KEYS[1]: the list. ARGV[1]: page (from 1). ARGV[2]: page size.
-- Returns {pages, item, item, ...}.
local size = tonumber(ARGV[2])
local first = (tonumber(ARGV[1]) - 1) * size
local pages = math.ceil(redis.call('LLEN', KEYS[1]) / size)
local result = {pages}
for _, item in ipairs(redis.call('LRANGE', KEYS[1], first, first + size - 1)) do
  table.insert(result, item)
end
return result
