--[[
  Appends an event to the queue's stream, trimming it approximately to `maxEvents` entries.
  The remaining arguments are field-value pairs.
]]
local function emitEvent(eventsKey, maxEvents, eventName, ...)
  return redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", eventName, ...)
end
