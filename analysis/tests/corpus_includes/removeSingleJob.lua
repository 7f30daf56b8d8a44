--[[
  Removes a job from every state it may be in, unless it is locked.

  Input:
    KEYS[1] job key
    KEYS[2] 'repeat'

    ARGV[1] job id
    ARGV[2] remove its children too ("1") or not
    ARGV[3] key prefix

  Output:
    1 removed, 0 locked (being processed), -1 missing
]]
local jobKey = KEYS[1]
local repeatKey = KEYS[2]

local jobId = ARGV[1]
local removeChildren = ARGV[2] == "1"
local prefix = ARGV[3]

--- @include "includes/isLocked"
--- @include "includes/removeJob"

local function removeFromStates(id)
  local removed = 0
  for _, state in ipairs({"wait", "active", "paused"}) do
    removed = removed + redis.call("LREM", prefix .. state, 0, id)
  end
  for _, state in ipairs({"completed", "failed", "delayed", "prioritized", "waiting-children"}) do
    removed = removed + redis.call("ZREM", prefix .. state, id)
  end
  return removed
end

-- Children first, depth first, so that no child is left without its parent.
local function removeWithChildren(id, key)
  if isLocked(key) then
    return false
  end
  if removeChildren then
    local dependencies = redis.call("SMEMBERS", key .. ":dependencies")
    for _, childKey in ipairs(dependencies) do
      local childId = string.match(childKey, "([^:]+)$")
      local childPrefix = string.sub(childKey, 1, #childKey - #childId)
      if childPrefix == prefix then
        removeWithChildren(childId, childKey)
      end
    end
    local processed = redis.call("HKEYS", key .. ":processed")
    for _, childKey in ipairs(processed) do
      local childId = string.match(childKey, "([^:]+)$")
      if string.sub(childKey, 1, #childKey - #childId) == prefix then
        removeFromStates(childId)
        removeJob(childId, true, prefix)
      end
    end
  end
  removeFromStates(id)
  removeJob(id, true, prefix)
  redis.call("XADD", prefix .. "events", "*", "event", "removed", "jobId", id, "prev", "unknown")
  return true
end

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

local repeatJobKey = redis.call("HGET", jobKey, "rjk")
if repeatJobKey then
  -- The next iteration of a repeatable job is scheduled by this one: keep the schedule.
  redis.call("ZSCORE", repeatKey, repeatJobKey)
end

if removeWithChildren(jobId, jobKey) then
  return 1
end
return 0
