--[[
  Extends the locks of several jobs at once (a worker renews all its jobs in one call).

  Input:
    KEYS[1] 'stalled'

    ARGV[1] key prefix
    ARGV[2] msgpacked job ids
    ARGV[3] msgpacked tokens, one per job
    ARGV[4] lock duration (milliseconds)

  Output:
    the ids of the jobs whose lock could not be extended
]]
local stalledKey = KEYS[1]

local prefix = ARGV[1]
local jobIds = cmsgpack.unpack(ARGV[2])
local tokens = cmsgpack.unpack(ARGV[3])
local duration = ARGV[4]

--- @include "includes/batches"
--- @include "includes/isLocked"

local failed = {}
local renewed = {}

for index, jobId in ipairs(jobIds) do
  local jobKey = prefix .. jobId
  local lockKey = jobKey .. ":lock"
  local token = tokens[index]
  local holder = redis.call("GET", lockKey)
  if holder == token then
    redis.call("SET", lockKey, token, "PX", duration)
    table.insert(renewed, jobId)
  elseif not holder and redis.call("EXISTS", jobKey) == 1 and not isLocked(jobKey) then
    -- Expired but not yet taken over: take it back.
    redis.call("SET", lockKey, token, "PX", duration, "NX")
    table.insert(renewed, jobId)
  else
    table.insert(failed, jobId)
  end
end

for from, to in batches(#renewed, 7000) do
  redis.call("SREM", stalledKey, unpack(renewed, from, to))
end

return failed
