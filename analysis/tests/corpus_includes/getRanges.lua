#!lua flags=no-writes
--[[
  The ids of the jobs in the given states, a page at a time.

  Input:
    KEYS[1] key prefix

    ARGV[1] start
    ARGV[2] end
    ARGV[3] ascending ("1") or not
    ARGV[4..n] state names

  Output:
    one list of ids per state
]]
local prefix = KEYS[1]

local rangeStart = tonumber(ARGV[1])
local rangeEnd = tonumber(ARGV[2])
local ascending = ARGV[3] == "1"

--- @include "includes/isQueuePaused"

-- Lists are pushed at the head: ascending order reads them from the tail.
local function listRange(key)
  if ascending then
    local length = redis.call("LLEN", key)
    local first = length - rangeEnd - 1
    local last = length - rangeStart - 1
    if rangeEnd < 0 then
      first = 0
    end
    if first < 0 then
      first = 0
    end
    local ids = redis.call("LRANGE", key, first, last)
    local reversed = {}
    for index = #ids, 1, -1 do
      reversed[#reversed + 1] = ids[index]
    end
    return reversed
  end
  return redis.call("LRANGE", key, rangeStart, rangeEnd)
end

local function setRange(key)
  if ascending then
    return redis.call("ZRANGE", key, rangeStart, rangeEnd)
  end
  return redis.call("ZREVRANGE", key, rangeStart, rangeEnd)
end

local paused = isQueuePaused(prefix .. "meta")
local results = {}
for index = 4, #ARGV do
  local state = ARGV[index]
  if state == "wait" and paused then
    state = "paused"
  end
  if state == "wait" or state == "paused" or state == "active" then
    results[#results + 1] = listRange(prefix .. state)
  else
    results[#results + 1] = setRange(prefix .. state)
  end
end
return results
