--[[
  Whether the queue is paused: `pause` sets the `paused` field of the meta hash.
]]
local function isQueuePaused(metaKey)
  return redis.call("HEXISTS", metaKey, "paused") == 1
end
