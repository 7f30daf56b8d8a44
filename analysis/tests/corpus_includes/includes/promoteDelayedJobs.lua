--[[
  Moves the delayed jobs that are due to the wait list (or the prioritized set), at most 1000
  at a time, and wakes up workers.
]]
--- @include "addJobInTargetList"
--- @include "addJobWithPriority"
--- @include "emitEvent"

local function promoteDelayedJobs(delayedKey, markerKey, targetKey, prioritizedKey, eventsKey,
                                  prefix, timestamp, priorityCounterKey, isPausedOrMaxed,
                                  maxEvents)
  local jobs = redis.call("ZRANGEBYSCORE", delayedKey, 0, (timestamp + 1) * 0x1000 - 1,
    "LIMIT", 0, 1000)
  if #jobs == 0 then
    return 0
  end
  redis.call("ZREM", delayedKey, unpack(jobs))
  for _, jobId in ipairs(jobs) do
    local jobKey = prefix .. jobId
    local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
    if priority == 0 then
      -- Delayed jobs go to the head: they have waited long enough.
      addJobInTargetList(targetKey, markerKey, "LPUSH", isPausedOrMaxed, jobId)
    else
      addJobWithPriority(markerKey, prioritizedKey, priority, jobId, priorityCounterKey,
        isPausedOrMaxed)
    end
    emitEvent(eventsKey, maxEvents, "waiting", "jobId", jobId, "prev", "delayed")
    redis.call("HSET", jobKey, "delay", 0)
  end
  return #jobs
end
