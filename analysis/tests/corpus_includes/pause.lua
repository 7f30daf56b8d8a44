--[[
  Pauses or resumes a queue: its waiting jobs move between the wait and paused lists.

  Input:
    KEYS[1] 'wait' or 'paused' (from)
    KEYS[2] 'paused' or 'wait' (to)
    KEYS[3] 'meta'
    KEYS[4] 'prioritized'
    KEYS[5] 'events'
    KEYS[6] 'delayed'
    KEYS[7] 'marker'

    ARGV[1] 'paused' or 'resumed'
]]
local fromKey = KEYS[1]
local toKey = KEYS[2]
local metaKey = KEYS[3]
local prioritizedKey = KEYS[4]
local eventsKey = KEYS[5]
local delayedKey = KEYS[6]
local markerKey = KEYS[7]

local action = ARGV[1]

--- @include "includes/addDelayMarkerIfNeeded"
--- @include "includes/getMaxEvents"

if redis.call("EXISTS", fromKey) == 1 then
  redis.call("RENAME", fromKey, toKey)
end

if action == "paused" then
  redis.call("HSET", metaKey, "paused", 1)
  -- Workers must not wake up for jobs they may not take.
  redis.call("DEL", markerKey)
else
  redis.call("HDEL", metaKey, "paused")
  local hasJobs = redis.call("LLEN", toKey) > 0 or redis.call("ZCARD", prioritizedKey) > 0
  if hasJobs then
    redis.call("ZADD", markerKey, 0, "0")
  else
    addDelayMarkerIfNeeded(markerKey, delayedKey)
  end
end

local maxEvents = getMaxEvents(metaKey)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", action)
return 0
