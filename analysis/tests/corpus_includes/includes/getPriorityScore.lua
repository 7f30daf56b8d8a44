--[[
  The score of a prioritized job: the priority in the high bits, a counter in the low ones, so
  that jobs of one priority keep their insertion order.
]]
local function getPriorityScore(priority, priorityCounterKey)
  local prioCounter = redis.call("INCR", priorityCounterKey)
  return priority * 0x100000000 + prioCounter % 0x100000000
end
