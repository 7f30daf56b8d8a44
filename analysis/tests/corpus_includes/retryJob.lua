--[[
  Moves an active job back to wait (or to the prioritized set) for another attempt.

  Input:
    KEYS[1] 'active'
    KEYS[2] 'wait'
    KEYS[3] 'paused'
    KEYS[4] job key
    KEYS[5] 'meta'
    KEYS[6] 'events'
    KEYS[7] 'delayed'
    KEYS[8] 'prioritized'
    KEYS[9] 'pc' (priority counter)
    KEYS[10] 'marker'
    KEYS[11] 'stalled'

    ARGV[1] key prefix
    ARGV[2] timestamp
    ARGV[3] push command: 'LPUSH' or 'RPUSH' (lifo)
    ARGV[4] job id
    ARGV[5] token

  Output:
    0, or -1 missing job, -3 not active, -2 / -6 lock errors
]]
local activeKey = KEYS[1]
local waitKey = KEYS[2]
local pausedKey = KEYS[3]
local jobKey = KEYS[4]
local metaKey = KEYS[5]
local eventsKey = KEYS[6]
local delayedKey = KEYS[7]
local prioritizedKey = KEYS[8]
local priorityCounterKey = KEYS[9]
local markerKey = KEYS[10]
local stalledKey = KEYS[11]

local prefix = ARGV[1]
local timestamp = tonumber(ARGV[2])
local pushCmd = ARGV[3]
local jobId = ARGV[4]
local token = ARGV[5]

--- @include "includes/addJobInTargetList"
--- @include "includes/addJobWithPriority"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"
--- @include "includes/promoteDelayedJobs"
--- @include "includes/removeLock"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
local maxEvents = getMaxEvents(metaKey)

-- Due delayed jobs go first, as when a worker fetches a job.
promoteDelayedJobs(delayedKey, markerKey, target, prioritizedKey, eventsKey, prefix, timestamp,
  priorityCounterKey, isPausedOrMaxed, maxEvents)

local lockResult = removeLock(jobKey, stalledKey, token, jobId)
if lockResult < 0 then
  return lockResult
end

if redis.call("LREM", activeKey, 1, jobId) == 0 then
  return -3
end

local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
if priority == 0 then
  addJobInTargetList(target, markerKey, pushCmd, isPausedOrMaxed, jobId)
else
  addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
    isPausedOrMaxed)
end

redis.call("HINCRBY", jobKey, "atm", 1)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId,
  "prev", "failed")
return 0
