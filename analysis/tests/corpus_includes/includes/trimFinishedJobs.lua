--[[
  Keeps the completed or failed set within the job's `keepJobs` options: at most `count` jobs,
  none older than `age` seconds. Removed jobs lose all their keys.
]]
--- @include "batches"
--- @include "removeJob"

local function removeJobsOlderThan(targetKey, prefix, maxTimestamp)
  local ids = redis.call("ZRANGEBYSCORE", targetKey, 0, maxTimestamp, "LIMIT", 0, 1000)
  for _, id in ipairs(ids) do
    removeJob(id, false, prefix)
  end
  for from, to in batches(#ids, 7000) do
    redis.call("ZREM", targetKey, unpack(ids, from, to))
  end
  return #ids
end

local function trimFinishedJobs(targetKey, prefix, keepJobs, timestamp)
  local removed = 0
  local maxAge = keepJobs["age"]
  if maxAge ~= nil then
    removed = removed + removeJobsOlderThan(targetKey, prefix, timestamp - maxAge * 1000)
  end
  local maxCount = keepJobs["count"]
  if maxCount ~= nil and maxCount >= 0 then
    local ids = redis.call("ZREVRANGE", targetKey, maxCount, -1)
    for _, id in ipairs(ids) do
      removeJob(id, false, prefix)
    end
    if #ids > 0 then
      redis.call("ZREMRANGEBYRANK", targetKey, 0, -(maxCount + 1))
    end
    removed = removed + #ids
  end
  return removed
end
