--[[
  When the last child of a parent finishes, the parent leaves `waiting-children`: to the
  delayed set if it has a delay, to the prioritized set if it has a priority, else to wait.
]]
--- @include "addDelayMarkerIfNeeded"
--- @include "addJobInTargetList"
--- @include "addJobWithPriority"
--- @include "getTargetQueueList"
--- @include "emitEvent"
--- @include "getMaxEvents"

local function moveParentToWaitIfNeeded(parentQueueKey, parentDependenciesKey, parentKey,
                                        parentId, timestamp)
  if redis.call("SCARD", parentDependenciesKey) ~= 0 then
    return false
  end
  if redis.call("ZREM", parentQueueKey .. ":waiting-children", parentId) ~= 1 then
    return false
  end
  local metaKey = parentQueueKey .. ":meta"
  local markerKey = parentQueueKey .. ":marker"
  local eventsKey = parentQueueKey .. ":events"
  local maxEvents = getMaxEvents(metaKey)
  local priority = tonumber(redis.call("HGET", parentKey, "priority")) or 0
  local delay = tonumber(redis.call("HGET", parentKey, "delay")) or 0
  if delay > 0 then
    local delayedKey = parentQueueKey .. ":delayed"
    local score = (timestamp + delay) * 0x1000
    redis.call("ZADD", delayedKey, score, parentId)
    emitEvent(eventsKey, maxEvents, "delayed", "jobId", parentId, "delay", timestamp + delay)
    addDelayMarkerIfNeeded(markerKey, delayedKey)
    return true
  end
  local target, isPausedOrMaxed = getTargetQueueList(metaKey, parentQueueKey .. ":active",
    parentQueueKey .. ":wait", parentQueueKey .. ":paused")
  if priority == 0 then
    addJobInTargetList(target, markerKey, "RPUSH", isPausedOrMaxed, parentId)
  else
    addJobWithPriority(markerKey, parentQueueKey .. ":prioritized", priority, parentId,
      parentQueueKey .. ":pc", isPausedOrMaxed)
  end
  emitEvent(eventsKey, maxEvents, "waiting", "jobId", parentId, "prev", "waiting-children")
  return true
end
