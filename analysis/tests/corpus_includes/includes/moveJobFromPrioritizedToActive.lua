--[[
  Takes the prioritized job with the lowest score and pushes it to the active list. With no
  prioritized job left, the priority counter starts over.
]]
local function moveJobFromPrioritizedToActive(priorityKey, activeKey, priorityCounterKey)
  local prioritizedJob = redis.call("ZPOPMIN", priorityKey)
  if #prioritizedJob > 0 then
    redis.call("LPUSH", activeKey, prioritizedJob[1])
    return prioritizedJob[1]
  end
  redis.call("DEL", priorityCounterKey)
  return nil
end
