--[[
  How long the events stream may grow: the queue's `opts.maxLenEvents`, 10000 by default.
]]
local function getMaxEvents(metaKey)
  local maxEvents = redis.call("HGET", metaKey, "opts.maxLenEvents")
  if not maxEvents then
    return 10000
  end
  return tonumber(maxEvents)
end
