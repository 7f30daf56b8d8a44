--[[
  Changes the delay of a delayed job: it is due `delay` milliseconds from now.

  Input:
    KEYS[1] 'delayed'
    KEYS[2] 'meta'
    KEYS[3] 'marker'
    KEYS[4] 'events'

    ARGV[1] delay (milliseconds)
    ARGV[2] timestamp
    ARGV[3] job id
    ARGV[4] job key

  Output:
    0, or -1 missing job, -3 not delayed
]]
local delayedKey = KEYS[1]
local metaKey = KEYS[2]
local markerKey = KEYS[3]
local eventsKey = KEYS[4]

local delay = tonumber(ARGV[1])
local timestamp = tonumber(ARGV[2])
local jobId = ARGV[3]
local jobKey = ARGV[4]

--- @include "includes/addDelayMarkerIfNeeded"
--- @include "includes/getMaxEvents"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

local oldScore = redis.call("ZSCORE", delayedKey, jobId)
if oldScore == false then
  return -3
end

-- The low bits order the jobs due in the same millisecond: they are kept.
local dueTimestamp = timestamp + delay
local score = dueTimestamp * 0x1000 + tonumber(oldScore) % 0x1000
redis.call("ZADD", delayedKey, "XX", score, jobId)
redis.call("HSET", jobKey, "delay", delay)

local maxEvents = getMaxEvents(metaKey)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "delayed", "jobId", jobId,
  "delay", dueTimestamp)

-- The job may now be the first one due.
addDelayMarkerIfNeeded(markerKey, delayedKey)
return 0
