--[[
  Moves up to `count` failed (or completed) jobs that finished before a timestamp back to
  wait, to retry them all. Call again while it returns 1.

  Input:
    KEYS[1] key prefix
    KEYS[2] 'events'
    KEYS[3] the state set ('failed' or 'completed')
    KEYS[4] 'wait'
    KEYS[5] 'paused'
    KEYS[6] 'meta'
    KEYS[7] 'active'
    KEYS[8] 'marker'

    ARGV[1] count
    ARGV[2] timestamp
    ARGV[3] the state's name

  Output:
    1 more jobs to move, 0 done
]]
local prefix = KEYS[1]
local eventsKey = KEYS[2]
local stateKey = KEYS[3]
local waitKey = KEYS[4]
local pausedKey = KEYS[5]
local metaKey = KEYS[6]
local activeKey = KEYS[7]
local markerKey = KEYS[8]

local maxCount = tonumber(ARGV[1])
local timestamp = tonumber(ARGV[2])
local prevState = ARGV[3]

--- @include "includes/batches"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
local maxEvents = getMaxEvents(metaKey)

local jobs = redis.call("ZRANGEBYSCORE", stateKey, 0, timestamp, "LIMIT", 0, maxCount)
if #jobs == 0 then
  return 0
end

local resultField = prevState == "failed" and "failedReason" or "returnvalue"
for _, jobId in ipairs(jobs) do
  local jobKey = prefix .. jobId
  redis.call("HDEL", jobKey, "finishedOn", "processedOn", resultField)
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId",
    jobId, "prev", prevState)
end

for from, to in batches(#jobs, 7000) do
  redis.call("ZREM", stateKey, unpack(jobs, from, to))
  redis.call("LPUSH", target, unpack(jobs, from, to))
end

if not isPausedOrMaxed then
  redis.call("ZADD", markerKey, 0, "0")
end

if #jobs < maxCount then
  return 0
end
return 1
