--[[
  Appends a line to a job's log, keeping at most `keepLogs` lines.

  Input:
    KEYS[1] job key
    KEYS[2] job logs key

    ARGV[1] job id
    ARGV[2] log line
    ARGV[3] lines to keep (optional)

  Output:
    the number of lines, or -1 missing job
]]
local jobKey = KEYS[1]
local logsKey = KEYS[2]

local jobId = ARGV[1]
local line = ARGV[2]
local keepLogs = tonumber(ARGV[3])

--- @include "includes/getTimestamp"
--- @include "includes/isLocked"

if redis.call("EXISTS", jobKey) ~= 1 then
  return -1
end

-- Lines written after the job finished are kept too, but dated so that they can be told apart.
if not isLocked(jobKey) and redis.call("HEXISTS", jobKey, "finishedOn") == 1 then
  line = string.format("[%d after finish of %s] %s", getTimestamp(), jobId, line)
end

local count = redis.call("RPUSH", logsKey, line)
if keepLogs and keepLogs > 0 and count > keepLogs then
  redis.call("LTRIM", logsKey, -keepLogs, -1)
  return keepLogs
end
return count
