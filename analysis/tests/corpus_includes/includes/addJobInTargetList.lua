--[[
  Pushes a job id to the list it waits in and, unless the queue is paused or maxed, sets the
  marker that wakes up blocked workers (score 0: "a job is ready now").
]]
local function addJobInTargetList(targetKey, markerKey, pushCmd, isPausedOrMaxed, jobId)
  redis.call(pushCmd, targetKey, jobId)
  if not isPausedOrMaxed then
    redis.call("ZADD", markerKey, 0, "0")
  end
end
