--[[
  Deletes a paused queue and all its jobs, in chunks: call again while it returns 1.

  Input:
    KEYS[1] 'meta'
    KEYS[2] key prefix (the queue's base key)

    ARGV[1] at most this many jobs per call
    ARGV[2] also when jobs are active ("1") or not

  Output:
    0 done, 1 more to delete, -1 the queue is not paused, -2 it has active jobs
]]
local metaKey = KEYS[1]
local baseKey = KEYS[2]

local maxCount = tonumber(ARGV[1])
local force = ARGV[2] == "1"

--- @include "includes/isQueuePaused"
--- @include "includes/removeJobs"

-- Active jobs may still be running: without `force` the queue is left alone.
local function countActive(activeKey)
  return redis.call("LLEN", activeKey)
end

if not isQueuePaused(metaKey) then
  return -1
end

local activeKey = baseKey .. "active"
if countActive(activeKey) > 0 and not force then
  return -2
end

local lists = {"active", "wait", "paused"}
local sets = {"delayed", "prioritized", "completed", "failed", "waiting-children"}

for _, list in ipairs(lists) do
  if maxCount <= 0 then
    return 1
  end
  maxCount = maxCount - removeListJobs(baseKey .. list, true, baseKey, maxCount)
end

for _, set in ipairs(sets) do
  if maxCount <= 0 then
    return 1
  end
  maxCount = maxCount - removeZSetJobs(baseKey .. set, true, baseKey, maxCount)
end

if maxCount <= 0 then
  return 1
end

-- Every job is gone: the queue's own keys follow.
redis.call("DEL", baseKey .. "events", baseKey .. "delay", baseKey .. "stalled-check",
  baseKey .. "stalled", baseKey .. "id", baseKey .. "pc", baseKey .. "marker",
  baseKey .. "metrics:completed", baseKey .. "metrics:completed:data",
  baseKey .. "metrics:failed", baseKey .. "metrics:failed:data", baseKey .. "limiter",
  baseKey .. "repeat", metaKey)
return 0
