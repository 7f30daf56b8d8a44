--[[
  A worker that hit the rate limit gives its job back: the job leaves the active list for the
  head of the wait list, and the limiter's ttl tells the worker how long to wait.

  Input:
    KEYS[1] 'active'
    KEYS[2] 'wait'
    KEYS[3] 'stalled'
    KEYS[4] 'limiter'
    KEYS[5] 'paused'
    KEYS[6] 'meta'
    KEYS[7] 'marker'
    KEYS[8] 'events'

    ARGV[1] job id
    ARGV[2] lock token
    ARGV[3] job key

  Output:
    the limiter's ttl (milliseconds)
]]
local activeKey = KEYS[1]
local waitKey = KEYS[2]
local stalledKey = KEYS[3]
local rateLimiterKey = KEYS[4]
local pausedKey = KEYS[5]
local metaKey = KEYS[6]
local markerKey = KEYS[7]
local eventsKey = KEYS[8]

local jobId = ARGV[1]
local token = ARGV[2]
local jobKey = ARGV[3]

--- @include "includes/addJobInTargetList"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"
--- @include "includes/removeLock"

local lockResult = removeLock(jobKey, stalledKey, token, jobId)
if lockResult < 0 then
  return lockResult
end

local removed = redis.call("LREM", activeKey, 1, jobId)
if removed > 0 then
  local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
  -- The job was next: it stays next, at the tail the workers take from.
  redis.call("RPUSH", target, jobId)
  if not isPausedOrMaxed then
    -- Wake up no one before the limit expires: the marker is set for then.
    local pttl = redis.call("PTTL", rateLimiterKey)
    if pttl > 0 then
      local time = redis.call("TIME")
      local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      redis.call("ZADD", markerKey, now + pttl, "1")
    else
      addJobInTargetList(target, markerKey, "RPUSH", isPausedOrMaxed, jobId)
      redis.call("LREM", target, -1, jobId)
    end
  end
  -- The attempt did not count.
  redis.call("HINCRBY", jobKey, "ats", -1)
  redis.call("XADD", eventsKey, "MAXLEN", "~", getMaxEvents(metaKey), "*", "event", "waiting",
    "jobId", jobId, "prev", "active")
end

local pttl = redis.call("PTTL", rateLimiterKey)
if pttl > 0 then
  return pttl
end
return 0
