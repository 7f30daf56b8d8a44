#!lua flags=no-writes
--[[
  The state a job is in.

  Input:
    KEYS[1] 'completed'
    KEYS[2] 'failed'
    KEYS[3] 'delayed'
    KEYS[4] 'active'
    KEYS[5] 'wait'
    KEYS[6] 'paused'
    KEYS[7] 'waiting-children'
    KEYS[8] 'prioritized'

    ARGV[1] job id
    ARGV[2] key prefix

  Output:
    the state's name, or 'unknown'
]]
local completedKey = KEYS[1]
local failedKey = KEYS[2]
local delayedKey = KEYS[3]
local activeKey = KEYS[4]
local waitKey = KEYS[5]
local pausedKey = KEYS[6]
local waitingChildrenKey = KEYS[7]
local prioritizedKey = KEYS[8]

local jobId = ARGV[1]
local prefix = ARGV[2]

--- @include "includes/isLocked"

-- LPOS finds an id without reading the whole list (Redis >= 6.0.6).
local function inList(listKey, id)
  return redis.call("LPOS", listKey, id) ~= false
end

local function inSet(setKey, id)
  return redis.call("ZSCORE", setKey, id) ~= false
end

if inSet(completedKey, jobId) then
  return "completed"
end
if inSet(failedKey, jobId) then
  return "failed"
end
if inSet(delayedKey, jobId) then
  return "delayed"
end
if inList(activeKey, jobId) then
  return "active"
end
-- A job being handed over between lists holds its lock: it is still active.
if isLocked(prefix .. jobId) then
  return "active"
end
if inList(waitKey, jobId) or inList(pausedKey, jobId) then
  return "waiting"
end
if inSet(waitingChildrenKey, jobId) then
  return "waiting-children"
end
if inSet(prioritizedKey, jobId) then
  return "prioritized"
end
return "unknown"
