--[[
  Promotes a delayed job: it becomes ready now.

  Input:
    KEYS[1] 'delayed'
    KEYS[2] 'wait'
    KEYS[3] 'paused'
    KEYS[4] 'meta'
    KEYS[5] 'prioritized'
    KEYS[6] 'active'
    KEYS[7] 'pc' (priority counter)
    KEYS[8] 'events'
    KEYS[9] 'marker'

    ARGV[1] key prefix
    ARGV[2] job id

  Output:
    0 promoted, -3 not delayed
]]
local delayedKey = KEYS[1]
local waitKey = KEYS[2]
local pausedKey = KEYS[3]
local metaKey = KEYS[4]
local prioritizedKey = KEYS[5]
local activeKey = KEYS[6]
local priorityCounterKey = KEYS[7]
local eventsKey = KEYS[8]
local markerKey = KEYS[9]

local prefix = ARGV[1]
local jobId = ARGV[2]

--- @include "includes/addJobInTargetList"
--- @include "includes/addJobWithPriority"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"

if redis.call("ZREM", delayedKey, jobId) ~= 1 then
  return -3
end

local jobKey = prefix .. jobId
local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)

if priority == 0 then
  -- A promoted job goes first: it was due later than the jobs already waiting.
  addJobInTargetList(target, markerKey, "LPUSH", isPausedOrMaxed, jobId)
else
  addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
    isPausedOrMaxed)
end

redis.call("HSET", jobKey, "delay", 0)

local maxEvents = getMaxEvents(metaKey)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId,
  "prev", "delayed")
return 0
