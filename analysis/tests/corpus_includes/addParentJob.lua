--[[
  Adds a job that waits for its children: it goes to 'waiting-children' until the last child
  finishes (see includes/moveParentToWaitIfNeeded).

  Input:
    KEYS[1] 'meta'
    KEYS[2] 'id'
    KEYS[3] 'completed'
    KEYS[4] 'events'
    KEYS[5] 'waiting-children'

    ARGV[1] msgpacked arguments: [prefix, custom id, name, timestamp, parent key,
            parent dependencies key, parent, repeat job key]
    ARGV[2] job data (JSON)
    ARGV[3] msgpacked options

  Output:
    the job id, or -5 if the parent is missing
]]
local metaKey = KEYS[1]
local idKey = KEYS[2]
local completedKey = KEYS[3]
local eventsKey = KEYS[4]
local waitingChildrenKey = KEYS[5]

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

--- @include "includes/getMaxEvents"
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

storeJob(eventsKey, jobIdKey, jobId, name, data, opts, timestamp, parentKey, parentData,
  repeatJobKey)

redis.call("ZADD", waitingChildrenKey, timestamp, jobId)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting-children",
  "jobId", jobId)

if parentDependenciesKey ~= nil then
  redis.call("SADD", parentDependenciesKey, jobIdKey)
end

return jobId .. ""
