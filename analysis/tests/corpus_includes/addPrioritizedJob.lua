--[[
  Adds a job with a priority (1 is the highest) to the prioritized set.

  Input:
    KEYS[1] 'marker'
    KEYS[2] 'meta'
    KEYS[3] 'id'
    KEYS[4] 'prioritized'
    KEYS[5] 'completed'
    KEYS[6] 'active'
    KEYS[7] 'events'
    KEYS[8] 'pc' (priority counter)

    ARGV[1] msgpacked arguments: [prefix, custom id, name, timestamp, parent key,
            parent dependencies key, parent, repeat job key, deduplication key]
    ARGV[2] job data (JSON)
    ARGV[3] msgpacked options

  Output:
    the job id, or -5 if the parent is missing
]]
local markerKey = KEYS[1]
local metaKey = KEYS[2]
local idKey = KEYS[3]
local prioritizedKey = KEYS[4]
local completedKey = KEYS[5]
local activeKey = KEYS[6]
local eventsKey = KEYS[7]
local priorityCounterKey = KEYS[8]

local args = cmsgpack.unpack(ARGV[1])
local data = ARGV[2]
local opts = cmsgpack.unpack(ARGV[3])

local prefix = args[1]
local name = args[3]
local timestamp = args[4]
local parentKey = args[5]
local parentDependenciesKey = args[6]
local parent = args[7]
local repeatJobKey = args[8]
local deduplicationKey = args[9]

--- @include "includes/addJobWithPriority"
--- @include "includes/deduplicateJob"
--- @include "includes/getMaxEvents"
--- @include "includes/isQueuePaused"
--- @include "includes/storeJob"
--- @include "includes/updateParentDepsIfNeeded"

-- A queue at its global concurrency takes the job but wakes no worker.
local function isQueuePausedOrMaxed(queueMetaKey, queueActiveKey)
  if isQueuePaused(queueMetaKey) then
    return true
  end
  local concurrency = tonumber(redis.call("HGET", queueMetaKey, "concurrency"))
  return concurrency ~= nil and redis.call("LLEN", queueActiveKey) >= concurrency
end

local parentData
if parentKey ~= nil then
  if redis.call("EXISTS", parentKey) ~= 1 then
    return -5
  end
  parentData = cjson.encode(parent)
end

local jobCounter = redis.call("INCR", idKey)
local maxEvents = getMaxEvents(metaKey)

local jobId = args[2]
if jobId == "" then
  jobId = jobCounter
end
local jobIdKey = prefix .. jobId

if redis.call("EXISTS", jobIdKey) == 1 then
  if parentKey ~= nil then
    if redis.call("ZSCORE", completedKey, jobId) ~= false then
      local returnvalue = redis.call("HGET", jobIdKey, "returnvalue")
      updateParentDepsIfNeeded(parentKey, parent["queueKey"], parentDependenciesKey,
        parent["id"], jobIdKey, returnvalue, timestamp)
    elseif parentDependenciesKey ~= nil then
      redis.call("SADD", parentDependenciesKey, jobIdKey)
    end
    redis.call("HMSET", jobIdKey, "parentKey", parentKey, "parent", parentData)
  end
  redis.call("XADD", eventsKey, "*", "event", "duplicated", "jobId", jobId)
  return jobId .. ""
end

local deduplicatedId = deduplicateJob(opts["de"], jobId, deduplicationKey, eventsKey, maxEvents)
if deduplicatedId then
  return deduplicatedId
end

local _, priority = storeJob(eventsKey, jobIdKey, jobId, name, data, opts, timestamp, parentKey,
  parentData, repeatJobKey)

local isPausedOrMaxed = isQueuePausedOrMaxed(metaKey, activeKey)
addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
  isPausedOrMaxed)

redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId)

if parentDependenciesKey ~= nil then
  redis.call("SADD", parentDependenciesKey, jobIdKey)
end

return jobId .. ""
