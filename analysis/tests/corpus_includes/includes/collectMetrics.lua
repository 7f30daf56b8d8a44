--[[
  Counts one more finished job in the queue's per-minute metrics: a list of data points, newest
  first, at most `maxDataPoints` long. Minutes without jobs get zeros.
]]
--- @include "batches"

local function collectMetrics(metaKey, dataPointsList, maxDataPoints, timestamp)
  local count = redis.call("HINCRBY", metaKey, "count", 1) - 1
  local prevTS = redis.call("HGET", metaKey, "prevTS")
  if not prevTS then
    redis.call("HSET", metaKey, "prevTS", timestamp, "prevCount", 0)
    return
  end
  local minutes = math.floor(timestamp / 60000) - math.floor(tonumber(prevTS) / 60000)
  local points = math.min(minutes, tonumber(maxDataPoints))
  if points <= 0 then
    return
  end
  local delta = count - tonumber(redis.call("HGET", metaKey, "prevCount"))
  if points == 1 then
    redis.call("LPUSH", dataPointsList, delta)
  else
    local values = {delta}
    for i = 2, points do
      values[i] = 0
    end
    for from, to in batches(#values, 7000) do
      redis.call("LPUSH", dataPointsList, unpack(values, from, to))
    end
  end
  redis.call("LTRIM", dataPointsList, 0, maxDataPoints - 1)
  redis.call("HSET", metaKey, "prevTS", timestamp, "prevCount", count)
end
