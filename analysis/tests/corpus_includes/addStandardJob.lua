--[[
  Adds a job to the wait list (or to the paused list of a paused queue).

  Input:
    KEYS[1] 'wait'
    KEYS[2] 'paused'
    KEYS[3] 'meta'
    KEYS[4] 'id' (the job id counter)
    KEYS[5] 'completed'
    KEYS[6] 'active'
    KEYS[7] 'events'
    KEYS[8] 'marker'

    ARGV[1] msgpacked arguments: [prefix, custom id, name, timestamp, parent key,
            parent dependencies key, parent, repeat job key, deduplication key]
    ARGV[2] job data (JSON)
    ARGV[3] msgpacked options

  Output:
    the job id, or -5 if the parent is missing
]]
local waitKey = KEYS[1]
local pausedKey = KEYS[2]
local metaKey = KEYS[3]
local idKey = KEYS[4]
local completedKey = KEYS[5]
local activeKey = KEYS[6]
local eventsKey = KEYS[7]
local markerKey = KEYS[8]

local args = cmsgpack.unpack(ARGV[1])
local data = ARGV[2]
local opts = cmsgpack.unpack(ARGV[3])

local prefix = args[1]
local customId = args[2]
local name = args[3]
local timestamp = args[4]
local parentKey = args[5]
local parentDependenciesKey = args[6]
local parent = args[7]
local repeatJobKey = args[8]
local deduplicationKey = args[9]

--- @include "includes/addJobInTargetList"
--- @include "includes/deduplicateJob"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"
--- @include "includes/storeJob"
--- @include "includes/updateParentDepsIfNeeded"

local parentData
if parentKey ~= nil then
  if redis.call("EXISTS", parentKey) ~= 1 then
    return -5
  end
  parentData = cjson.encode(parent)
end

local jobCounter = redis.call("INCR", idKey)
local maxEvents = getMaxEvents(metaKey)

local jobId
local jobIdKey
if customId == "" then
  jobId = jobCounter
  jobIdKey = prefix .. jobId
else
  jobId = customId
  jobIdKey = prefix .. jobId
  if redis.call("EXISTS", jobIdKey) == 1 then
    -- An existing job with this id: it is the one that stays.
    if parentKey ~= nil then
      if redis.call("ZSCORE", completedKey, jobId) ~= false then
        local returnvalue = redis.call("HGET", jobIdKey, "returnvalue")
        updateParentDepsIfNeeded(parentKey, parent["queueKey"], parentDependenciesKey,
          parent["id"], jobIdKey, returnvalue, timestamp)
      else
        if parentDependenciesKey ~= nil then
          redis.call("SADD", parentDependenciesKey, jobIdKey)
        end
      end
      redis.call("HMSET", jobIdKey, "parentKey", parentKey, "parent", parentData)
    end
    redis.call("XADD", eventsKey, "*", "event", "duplicated", "jobId", jobId)
    return jobId .. ""
  end
end

local deduplicatedId = deduplicateJob(opts["de"], jobId, deduplicationKey, eventsKey, maxEvents)
if deduplicatedId then
  return deduplicatedId
end

storeJob(eventsKey, jobIdKey, jobId, name, data, opts, timestamp, parentKey, parentData,
  repeatJobKey)

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)

-- LIFO jobs go to the head of the list, the others to its tail.
local pushCmd = opts["lifo"] and "RPUSH" or "LPUSH"
addJobInTargetList(target, markerKey, pushCmd, isPausedOrMaxed, jobId)

redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId)

if parentDependenciesKey ~= nil then
  redis.call("SADD", parentDependenciesKey, jobIdKey)
end

return jobId .. ""
