--[[
  Adds a job that becomes ready after a delay.

  Input:
    KEYS[1] 'marker'
    KEYS[2] 'meta'
    KEYS[3] 'id'
    KEYS[4] 'delayed'
    KEYS[5] 'completed'
    KEYS[6] 'events'

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
local delayedKey = KEYS[4]
local completedKey = KEYS[5]
local eventsKey = KEYS[6]

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

--- @include "includes/addDelayMarkerIfNeeded"
--- @include "includes/deduplicateJob"
--- @include "includes/getMaxEvents"
--- @include "includes/storeJob"
--- @include "includes/updateParentDepsIfNeeded"

-- Delayed jobs are ordered by due time, then by insertion: the low 12 bits count.
local function getDelayedScore(delayedSetKey, dueTimestamp)
  local score = dueTimestamp * 0x1000
  local last = redis.call("ZREVRANGEBYSCORE", delayedSetKey, (dueTimestamp + 1) * 0x1000 - 1,
    score, "WITHSCORES", "LIMIT", 0, 1)
  if #last > 0 then
    local lastScore = tonumber(last[2])
    if lastScore and lastScore + 1 < (dueTimestamp + 1) * 0x1000 then
      return lastScore + 1
    end
  end
  return score
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

local delay = storeJob(eventsKey, jobIdKey, jobId, name, data, opts, timestamp, parentKey,
  parentData, repeatJobKey)

local dueTimestamp = timestamp + delay
local score = getDelayedScore(delayedKey, dueTimestamp)
redis.call("ZADD", delayedKey, score, jobId)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "delayed", "jobId", jobId,
  "delay", dueTimestamp)

-- The worker waiting on the marker wakes up when the first delayed job is due.
addDelayMarkerIfNeeded(markerKey, delayedKey)

if parentDependenciesKey ~= nil then
  redis.call("SADD", parentDependenciesKey, jobIdKey)
end

return jobId .. ""
