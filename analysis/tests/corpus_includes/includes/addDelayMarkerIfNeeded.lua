--[[
  Delayed jobs are scored `timestamp * 0x1000 + counter`. The marker gets the timestamp of the
  next delayed job, so that a blocked worker wakes up when it is due.
]]
local function getNextDelayedTimestamp(delayedKey)
  local result = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
  if #result > 0 then
    local nextTimestamp = tonumber(result[2])
    if nextTimestamp ~= nil then
      return math.floor(nextTimestamp / 0x1000)
    end
  end
end

local function addDelayMarkerIfNeeded(markerKey, delayedKey)
  local nextTimestamp = getNextDelayedTimestamp(delayedKey)
  if nextTimestamp ~= nil then
    redis.call("ZADD", markerKey, nextTimestamp, "1")
  end
end
