--[[
  Removes the jobs of one state that finished (or were added) before a timestamp, at most
  `limit` of them; locked jobs are skipped.

  Input:
    KEYS[1] the set or list ('completed', 'failed', 'delayed', 'wait', ...)
    KEYS[2] 'events'
    KEYS[3] the repeat key

    ARGV[1] key prefix
    ARGV[2] max timestamp
    ARGV[3] limit (0: no limit)
    ARGV[4] the state's name

  Output:
    the ids removed
]]
local setKey = KEYS[1]
local eventsKey = KEYS[2]
local repeatKey = KEYS[3]

local prefix = ARGV[1]
local maxTimestamp = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local setName = ARGV[4]

--- @include "includes/batches"
--- @include "includes/isLocked"
--- @include "includes/removeJob"

local isList = setName == "wait" or setName == "active" or setName == "paused"
local isFinished = setName == "completed" or setName == "failed"

-- The job's timestamp for this state: when it finished, or when it was added.
local function jobTimestamp(jobKey)
  local field = isFinished and "finishedOn" or "timestamp"
  local value = redis.call("HGET", jobKey, field)
  if not value and isFinished then
    value = redis.call("HGET", jobKey, "processedOn")
  end
  return tonumber(value)
end

local function isRepeatJob(jobKey)
  local repeatJobKey = redis.call("HGET", jobKey, "rjk")
  return repeatJobKey and redis.call("ZSCORE", repeatKey, repeatJobKey) ~= false
end

local candidates
if isList then
  candidates = redis.call("LRANGE", setKey, 0, -1)
elseif isFinished then
  candidates = redis.call("ZRANGEBYSCORE", setKey, 0, maxTimestamp)
else
  candidates = redis.call("ZRANGE", setKey, 0, -1)
end

local deleted = {}
for _, jobId in ipairs(candidates) do
  if limit > 0 and #deleted >= limit then
    break
  end
  local jobKey = prefix .. jobId
  local stamp = jobTimestamp(jobKey)
  if not isLocked(jobKey) and (stamp == nil or stamp <= maxTimestamp) and not isRepeatJob(jobKey)
  then
    removeJob(jobId, true, prefix)
    table.insert(deleted, jobId)
  end
end

if isList then
  for _, jobId in ipairs(deleted) do
    redis.call("LREM", setKey, 0, jobId)
  end
else
  for from, to in batches(#deleted, 7000) do
    redis.call("ZREM", setKey, unpack(deleted, from, to))
  end
end

redis.call("XADD", eventsKey, "*", "event", "cleaned", "count", #deleted)
return deleted
