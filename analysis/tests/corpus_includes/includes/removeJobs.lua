--[[
  Removes the jobs of a list or sorted set of the queue, at most `max` of them (0: all).
]]
--- @include "batches"
--- @include "removeJob"

local function removeJobsByIds(ids, hard, baseKey)
  for _, id in ipairs(ids) do
    removeJob(id, hard, baseKey)
  end
end

local function removeListJobs(keyName, hard, baseKey, max)
  local last = -1
  if max > 0 then
    last = max - 1
  end
  local ids = redis.call("LRANGE", keyName, 0, last)
  removeJobsByIds(ids, hard, baseKey)
  if max > 0 then
    redis.call("LTRIM", keyName, #ids, -1)
  else
    redis.call("DEL", keyName)
  end
  return #ids
end

local function removeZSetJobs(keyName, hard, baseKey, max)
  local last = -1
  if max > 0 then
    last = max - 1
  end
  local ids = redis.call("ZRANGE", keyName, 0, last)
  removeJobsByIds(ids, hard, baseKey)
  for from, to in batches(#ids, 7000) do
    redis.call("ZREM", keyName, unpack(ids, from, to))
  end
  return #ids
end
