--[[
  Moves an active job back to the delayed set, to be retried later.

  Input:
    KEYS[1] 'marker'
    KEYS[2] 'active'
    KEYS[3] 'prioritized'
    KEYS[4] 'delayed'
    KEYS[5] job key
    KEYS[6] 'events'
    KEYS[7] 'meta'
    KEYS[8] 'stalled'

    ARGV[1] key prefix
    ARGV[2] timestamp
    ARGV[3] delay in milliseconds
    ARGV[4] job id
    ARGV[5] lock token
    ARGV[6] keep the lock ("1") or not

  Output:
    0, or -1 missing job, -3 job not active, -2 / -6 lock errors
]]
local markerKey = KEYS[1]
local activeKey = KEYS[2]
local prioritizedKey = KEYS[3]
local delayedKey = KEYS[4]
local jobKey = KEYS[5]
local eventsKey = KEYS[6]
local metaKey = KEYS[7]
local stalledKey = KEYS[8]

local prefix = ARGV[1]
local timestamp = tonumber(ARGV[2])
local delay = tonumber(ARGV[3])
local jobId = ARGV[4]
local token = ARGV[5]
local keepLock = ARGV[6] == "1"

--- @include "includes/addDelayMarkerIfNeeded"
--- @include "includes/getMaxEvents"
--- @include "includes/removeLock"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

if not keepLock then
  local lockResult = removeLock(jobKey, stalledKey, token, jobId)
  if lockResult < 0 then
    return lockResult
  end
end

local dueTimestamp = timestamp + delay
local score = dueTimestamp * 0x1000 + tonumber(redis.call("INCR", prefix .. "delay-counter"))
  % 0x1000

local removed = redis.call("LREM", activeKey, 1, jobId)
if removed == 0 then
  -- Not active: maybe prioritized by a concurrent change.
  if redis.call("ZREM", prioritizedKey, jobId) == 0 then
    return -3
  end
end

redis.call("ZADD", delayedKey, score, jobId)
redis.call("HSET", jobKey, "delay", delay)

local maxEvents = getMaxEvents(metaKey)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "delayed", "jobId", jobId,
  "delay", dueTimestamp)

addDelayMarkerIfNeeded(markerKey, delayedKey)
return 0
