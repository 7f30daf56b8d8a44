--[[
  Moves an active job to completed or failed, updates its parent, trims the finished set,
  records metrics and, if asked, fetches the next job.

  Input:
    KEYS[1] 'wait'
    KEYS[2] 'active'
    KEYS[3] 'prioritized'
    KEYS[4] 'events'
    KEYS[5] 'stalled'
    KEYS[6] 'limiter'
    KEYS[7] 'delayed'
    KEYS[8] 'paused'
    KEYS[9] 'meta'
    KEYS[10] 'pc' (priority counter)
    KEYS[11] 'completed' or 'failed'
    KEYS[12] job key
    KEYS[13] metrics key
    KEYS[14] 'marker'

    ARGV[1] job id
    ARGV[2] timestamp
    ARGV[3] the field for the result: 'returnvalue' or 'failedReason'
    ARGV[4] the result
    ARGV[5] the target: 'completed' or 'failed'
    ARGV[6] fetch the next job ("1") or not
    ARGV[7] key prefix
    ARGV[8] msgpacked options: token, keepJobs, lockDuration, attempts, maxMetricsSize, limiter

  Output:
    0 and the next job if fetched, or
    -1 missing job, -2 missing lock, -3 job not active, -4 pending dependencies,
    -6 lock held by another worker
]]
local waitKey = KEYS[1]
local activeKey = KEYS[2]
local prioritizedKey = KEYS[3]
local eventsKey = KEYS[4]
local stalledKey = KEYS[5]
local rateLimiterKey = KEYS[6]
local delayedKey = KEYS[7]
local pausedKey = KEYS[8]
local metaKey = KEYS[9]
local priorityCounterKey = KEYS[10]
local finishedKey = KEYS[11]
local jobIdKey = KEYS[12]
local metricsKey = KEYS[13]
local markerKey = KEYS[14]

local jobId = ARGV[1]
local timestamp = tonumber(ARGV[2])
local resultField = ARGV[3]
local result = ARGV[4]
local target = ARGV[5]
local fetchNext = ARGV[6] == "1"
local prefix = ARGV[7]
local opts = cmsgpack.unpack(ARGV[8])

--- @include "includes/collectMetrics"
--- @include "includes/getMaxEvents"
--- @include "includes/getRateLimitTTL"
--- @include "includes/getTargetQueueList"
--- @include "includes/moveJobFromPrioritizedToActive"
--- @include "includes/prepareJobForProcessing"
--- @include "includes/promoteDelayedJobs"
--- @include "includes/removeLock"
--- @include "includes/trimFinishedJobs"
--- @include "includes/updateParentDepsIfNeeded"

if redis.call("EXISTS", jobIdKey) ~= 1 then
  return -1
end

local lockResult = removeLock(jobIdKey, stalledKey, opts["token"], jobId)
if lockResult < 0 then
  return lockResult
end

if redis.call("SCARD", jobIdKey .. ":dependencies") ~= 0 then
  return -4
end

local removed = redis.call("LREM", activeKey, -1, jobId)
if removed == 0 then
  return -3
end

local maxEvents = getMaxEvents(metaKey)
local attemptsMade = redis.call("HINCRBY", jobIdKey, "atm", 1)

-- A completed child reports its return value to its parent; a failed one may fail the parent.
local parentKey = getParentKey(jobIdKey)
if parentKey and target == "completed" then
  local parentData = cjson.decode(redis.call("HGET", jobIdKey, "parent") or "{}")
  local parentId = string.match(parentKey, "([^:]+)$")
  local parentQueueKey = parentData["queueKey"] or string.sub(parentKey, 1, #parentKey -
    #parentId - 1)
  local dependenciesKey = parentKey .. ":dependencies"
  if redis.call("SREM", dependenciesKey, jobIdKey) == 1 then
    updateParentDepsIfNeeded(parentKey, parentQueueKey, dependenciesKey, parentId, jobIdKey,
      result, timestamp)
  end
elseif parentKey and opts["fpof"] then
  redis.call("HSET", parentKey, "failedReason", "child " .. jobIdKey .. " failed")
end

local keepJobs = opts["keepJobs"] or {}
if keepJobs["count"] == 0 then
  removeJob(jobId, false, prefix)
else
  redis.call("ZADD", finishedKey, timestamp, jobId)
  redis.call("HSET", jobIdKey, resultField, result, "finishedOn", timestamp)
  trimFinishedJobs(finishedKey, prefix, keepJobs, timestamp)
end

redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", target, "jobId", jobId,
  resultField, result, "prev", "active")

if target == "failed" and tonumber(opts["attempts"] or 1) <= attemptsMade then
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "retries-exhausted",
    "jobId", jobId, "attemptsMade", attemptsMade)
end

if opts["maxMetricsSize"] and opts["maxMetricsSize"] ~= "" then
  collectMetrics(metricsKey, metricsKey .. ":data", opts["maxMetricsSize"], timestamp)
end

if not fetchNext then
  return 0
end

local queueTarget, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
promoteDelayedJobs(delayedKey, markerKey, queueTarget, prioritizedKey, eventsKey, prefix,
  timestamp, priorityCounterKey, isPausedOrMaxed, maxEvents)

local maxJobs = tonumber(opts["limiter"] and opts["limiter"]["max"])
if getRateLimitTTL(maxJobs, rateLimiterKey) > 0 or isPausedOrMaxed then
  return 0
end

local nextJobId = redis.call("RPOPLPUSH", waitKey, activeKey)
if not nextJobId then
  nextJobId = moveJobFromPrioritizedToActive(prioritizedKey, activeKey, priorityCounterKey)
end
if nextJobId then
  return prepareJobForProcessing(prefix, rateLimiterKey, eventsKey, timestamp, nextJobId, opts,
    maxEvents)
end

-- The queue is drained: workers may stop polling until a job arrives.
if redis.call("LLEN", waitKey) == 0 and redis.call("ZCARD", prioritizedKey) == 0 then
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "drained")
end
return 0
