--[[
  Takes the next job for a worker: promotes due delayed jobs, then takes a prioritized job or
  the job at the tail of the wait list, unless the queue is paused, maxed or rate limited.

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
    KEYS[11] 'marker'

    ARGV[1] key prefix
    ARGV[2] timestamp
    ARGV[3] msgpacked options: token, lockDuration, limiter

  Output:
    {job fields, job id, rate limit ttl, next delayed timestamp}
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
local markerKey = KEYS[11]

local prefix = ARGV[1]
local timestamp = tonumber(ARGV[2])
local opts = cmsgpack.unpack(ARGV[3])

--- @include "includes/addDelayMarkerIfNeeded"
--- @include "includes/getMaxEvents"
--- @include "includes/getRateLimitTTL"
--- @include "includes/getTargetQueueList"
--- @include "includes/moveJobFromPrioritizedToActive"
--- @include "includes/prepareJobForProcessing"
--- @include "includes/promoteDelayedJobs"

local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
local maxEvents = getMaxEvents(metaKey)

-- Delayed jobs that are due first, so that they are not overtaken by newer jobs.
promoteDelayedJobs(delayedKey, markerKey, target, prioritizedKey, eventsKey, prefix, timestamp,
  priorityCounterKey, isPausedOrMaxed, maxEvents)

local maxJobs = tonumber(opts["limiter"] and opts["limiter"]["max"])
local expireTime = getRateLimitTTL(maxJobs, rateLimiterKey)

if expireTime > 0 then
  return {0, 0, expireTime, 0}
end

if isPausedOrMaxed then
  return {0, 0, 0, 0}
end

-- A job the worker took with BRPOPLPUSH before calling this script is already active.
local jobId = redis.call("RPOPLPUSH", waitKey, activeKey)
if jobId then
  if string.sub(jobId, 1, 2) == "0:" then
    -- A marker left in the wait list by an older version: drop it and take the next job.
    redis.call("LREM", activeKey, 1, jobId)
    jobId = redis.call("RPOPLPUSH", waitKey, activeKey)
  end
end

if jobId then
  return prepareJobForProcessing(prefix, rateLimiterKey, eventsKey, timestamp, jobId, opts,
    maxEvents)
end

jobId = moveJobFromPrioritizedToActive(prioritizedKey, activeKey, priorityCounterKey)
if jobId then
  return prepareJobForProcessing(prefix, rateLimiterKey, eventsKey, timestamp, jobId, opts,
    maxEvents)
end

-- Nothing to do: tell the worker when the next delayed job is due.
addDelayMarkerIfNeeded(markerKey, delayedKey)
local nextTimestamp = getNextDelayedTimestamp(delayedKey)
if redis.call("LLEN", stalledKey) > 0 then
  redis.call("XADD", eventsKey, "*", "event", "idle")
end
return {0, 0, 0, nextTimestamp or 0}
