--[[
  Records a finished child's return value in its parent and moves the parent on when it was
  the last pending child.
]]
--- @include "moveParentToWaitIfNeeded"

local function updateParentDepsIfNeeded(parentKey, parentQueueKey, parentDependenciesKey,
                                        parentId, jobIdKey, returnvalue, timestamp)
  redis.call("HSET", parentKey .. ":processed", jobIdKey, returnvalue)
  return moveParentToWaitIfNeeded(parentQueueKey, parentDependenciesKey, parentKey, parentId,
    timestamp)
end
