--[[
  Moves a finished (completed or failed) job back to wait, clearing its result.

  Input:
    KEYS[1] job key
    KEYS[2] 'events'
    KEYS[3] the job's state set ('completed' or 'failed')
    KEYS[4] 'wait'
    KEYS[5] 'meta'
    KEYS[6] 'paused'
    KEYS[7] 'active'
    KEYS[8] 'marker'

    ARGV[1] job id
    ARGV[2] push command: 'LPUSH' or 'RPUSH'
    ARGV[3] the field to clear: 'returnvalue' or 'failedReason'
    ARGV[4] the state's name

  Output:
    1 moved, -1 missing job, -3 not in that state
]]
local jobKey = KEYS[1]
local eventsKey = KEYS[2]
local stateKey = KEYS[3]
local waitKey = KEYS[4]
local metaKey = KEYS[5]
local pausedKey = KEYS[6]
local activeKey = KEYS[7]
local markerKey = KEYS[8]

local jobId = ARGV[1]
local pushCmd = ARGV[2]
local resultField = ARGV[3]
local state = ARGV[4]

--- @include "includes/addJobInTargetList"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

if redis.call("ZREM", stateKey, jobId) ~= 1 then
  return -3
end

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
addJobInTargetList(target, markerKey, pushCmd, isPausedOrMaxed, jobId)

-- The job starts over: no result, no finish time, no attempts.
redis.call("HDEL", jobKey, "finishedOn", "processedOn", resultField, "atm", "stc")

local maxEvents = getMaxEvents(metaKey)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId,
  "prev", state)
return 1
