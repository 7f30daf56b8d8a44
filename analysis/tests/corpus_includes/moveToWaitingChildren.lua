--[[
  Moves an active job to 'waiting-children' while some of its children are pending.

  Input:
    KEYS[1] lock key
    KEYS[2] 'active'
    KEYS[3] 'waiting-children'
    KEYS[4] job key
    KEYS[5] 'stalled'

    ARGV[1] lock token
    ARGV[2] child key (optional: move only while this child is pending)
    ARGV[3] timestamp
    ARGV[4] job id
    ARGV[5] key prefix

  Output:
    0 moved, 1 no pending dependencies, -1 missing job, -2 missing lock, -3 not active,
    -9 the child is not a pending dependency
]]
local lockKey = KEYS[1]
local activeKey = KEYS[2]
local waitingChildrenKey = KEYS[3]
local jobKey = KEYS[4]
local stalledKey = KEYS[5]

local token = ARGV[1]
local childKey = ARGV[2]
local timestamp = tonumber(ARGV[3])
local jobId = ARGV[4]
local prefix = ARGV[5]

--- @include "includes/getMaxEvents"
--- @include "includes/removeLock"

local function moveToWaitingChildren()
  local removed = redis.call("LREM", activeKey, -1, jobId)
  if removed < 1 then
    return -3
  end
  redis.call("ZADD", waitingChildrenKey, timestamp, jobId)
  local maxEvents = getMaxEvents(prefix .. "meta")
  redis.call("XADD", prefix .. "events", "MAXLEN", "~", maxEvents, "*", "event",
    "waiting-children", "jobId", jobId, "prev", "active")
  return 0
end

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

if token ~= "0" and redis.call("GET", lockKey) ~= token then
  return -2
end

local dependenciesKey = jobKey .. ":dependencies"
if childKey ~= "" then
  if redis.call("SISMEMBER", dependenciesKey, childKey) ~= 1 then
    return -9
  end
elseif redis.call("SCARD", dependenciesKey) == 0 then
  return 1
end

local lockResult = removeLock(jobKey, stalledKey, token, jobId)
if lockResult < 0 then
  return lockResult
end
return moveToWaitingChildren()
