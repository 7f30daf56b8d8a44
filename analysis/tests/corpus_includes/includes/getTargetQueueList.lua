--[[
  The list a job that becomes ready goes to, and whether workers should not be woken up:
  the paused list for a paused queue, the wait list otherwise. A queue whose active list is
  at its global concurrency is "maxed": jobs wait, but no marker is set.
]]
--- @include "isQueuePaused"

local function getTargetQueueList(metaKey, activeKey, waitKey, pausedKey)
  if isQueuePaused(metaKey) then
    return pausedKey, true
  end
  local concurrency = tonumber(redis.call("HGET", metaKey, "concurrency"))
  if concurrency and concurrency > 0 then
    local activeCount = redis.call("LLEN", activeKey)
    if activeCount >= concurrency then
      return waitKey, true
    end
  end
  return waitKey, false
end
