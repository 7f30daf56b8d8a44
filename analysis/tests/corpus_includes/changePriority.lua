--[[
  Changes a waiting job's priority: it moves between the wait list and the prioritized set.

  Input:
    KEYS[1] 'wait'
    KEYS[2] 'paused'
    KEYS[3] 'meta'
    KEYS[4] 'prioritized'
    KEYS[5] 'active'
    KEYS[6] 'pc' (priority counter)
    KEYS[7] 'marker'

    ARGV[1] priority (0: none)
    ARGV[2] key prefix
    ARGV[3] job id
    ARGV[4] lifo ("1") or not

  Output:
    0, or -1 missing job
]]
local waitKey = KEYS[1]
local pausedKey = KEYS[2]
local metaKey = KEYS[3]
local prioritizedKey = KEYS[4]
local activeKey = KEYS[5]
local priorityCounterKey = KEYS[6]
local markerKey = KEYS[7]

local priority = tonumber(ARGV[1])
local prefix = ARGV[2]
local jobId = ARGV[3]
local lifo = ARGV[4] == "1"

--- @include "includes/addJobInTargetList"
--- @include "includes/addJobWithPriority"
--- @include "includes/getTargetQueueList"

local jobKey = prefix .. jobId
if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)

-- Only a job that waits is moved; an active or finished one just keeps the new priority.
local wasPrioritized = redis.call("ZREM", prioritizedKey, jobId) == 1
local wasWaiting = wasPrioritized or redis.call("LREM", target, 1, jobId) > 0

if wasWaiting then
  if priority == 0 then
    local pushCmd = lifo and "RPUSH" or "LPUSH"
    addJobInTargetList(target, markerKey, pushCmd, isPausedOrMaxed, jobId)
  else
    addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
      isPausedOrMaxed)
  end
end

redis.call("HSET", jobKey, "priority", priority)
return 0
