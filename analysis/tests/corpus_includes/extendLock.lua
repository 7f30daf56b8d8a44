--[[
  Extends a job's lock, if the worker still holds it.

  Input:
    KEYS[1] lock key
    KEYS[2] 'stalled'
    KEYS[3] job key

    ARGV[1] token
    ARGV[2] lock duration (milliseconds)
    ARGV[3] job id

  Output:
    1 extended, 0 not the holder, -1 missing job
]]
local lockKey = KEYS[1]
local stalledKey = KEYS[2]
local jobKey = KEYS[3]

local token = ARGV[1]
local duration = ARGV[2]
local jobId = ARGV[3]

--- @include "includes/isLocked"

-- Compares the holder before touching the lock: a lock taken over by another worker after
-- ours expired must not be extended.
local function holds(key, expected)
  return redis.call("GET", key) == expected
end

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

if not isLocked(jobKey) then
  -- The lock expired but the job is still ours: the stalled checker has not run yet.
  if redis.call("SISMEMBER", stalledKey, jobId) == 1 then
    redis.call("SET", lockKey, token, "PX", duration)
    redis.call("SREM", stalledKey, jobId)
    return 1
  end
  return 0
end

if holds(lockKey, token) then
  if redis.call("SET", lockKey, token, "PX", duration) then
    redis.call("SREM", stalledKey, jobId)
    return 1
  end
end
return 0
