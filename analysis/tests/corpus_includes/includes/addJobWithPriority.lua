--[[
  Adds a job to the prioritized set and wakes up workers unless the queue is paused or maxed.
]]
--- @include "getPriorityScore"

local function addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
                                  isPausedOrMaxed)
  local score = getPriorityScore(priority, priorityCounterKey)
  redis.call("ZADD", prioritizedKey, score, jobId)
  if not isPausedOrMaxed then
    redis.call("ZADD", markerKey, 0, "0")
  end
end
