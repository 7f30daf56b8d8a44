--[[
  Removes a job from its parent's pending dependencies. A parent left with none, whose own
  parent is gone too (`hard`), is removed as well; otherwise it is moved on to wait.
]]
--- @include "getParentKey"
--- @include "removeJobKeys"

local function removeParentDependency(jobKey, hard, baseKey)
  local parentKey = getParentKey(jobKey)
  if not parentKey then
    return false
  end
  local dependenciesKey = parentKey .. ":dependencies"
  if redis.call("SREM", dependenciesKey, jobKey) == 0 then
    return false
  end
  local pending = redis.call("SCARD", dependenciesKey)
  if pending > 0 then
    return true
  end
  local parentId = string.match(parentKey, "([^:]+)$")
  local parentPrefix = string.sub(parentKey, 1, #parentKey - #parentId)
  if hard and parentPrefix == baseKey then
    if redis.call("ZREM", parentPrefix .. "waiting-children", parentId) == 1 then
      removeJobKeys(parentKey)
    end
  else
    if redis.call("ZREM", parentPrefix .. "waiting-children", parentId) == 1 then
      redis.call("RPUSH", parentPrefix .. "wait", parentId)
      redis.call("ZADD", parentPrefix .. "marker", 0, "0")
      redis.call("XADD", parentPrefix .. "events", "*", "event", "waiting", "jobId", parentId,
        "prev", "waiting-children")
    end
  end
  return true
end
