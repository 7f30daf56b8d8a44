--[[
  Stores a job's progress and announces it.

  Input:
    KEYS[1] job key
    KEYS[2] 'events'
    KEYS[3] 'meta'

    ARGV[1] job id
    ARGV[2] progress (JSON)

  Output:
    0, or -1 missing job
]]
local jobKey = KEYS[1]
local eventsKey = KEYS[2]
local metaKey = KEYS[3]

local jobId = ARGV[1]
local progress = ARGV[2]

--- @include "includes/emitEvent"
--- @include "includes/getMaxEvents"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

-- Numbers and objects are both stored as JSON text; the event carries the same text.
local decoded = cjson.decode(progress)
if type(decoded) == "number" and (decoded < 0 or decoded > 100) then
  return redis.error_reply("progress must be between 0 and 100")
end

redis.call("HSET", jobKey, "progress", progress)
emitEvent(eventsKey, getMaxEvents(metaKey), "progress", "jobId", jobId, "data", progress)
return 0
