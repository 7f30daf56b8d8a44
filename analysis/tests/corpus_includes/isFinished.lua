#!lua flags=no-writes
--[[
  Whether a job has finished, and with it its result.

  Input:
    KEYS[1] 'completed'
    KEYS[2] 'failed'
    KEYS[3] job key

    ARGV[1] job id
    ARGV[2] also return the result ("1") or not

  Output:
    0 not finished, 1 completed, 2 failed, -1 missing job; with the result: {code, result}
]]
local completedKey = KEYS[1]
local failedKey = KEYS[2]
local jobKey = KEYS[3]

local jobId = ARGV[1]
local withResult = ARGV[2] == "1"

--- @include "includes/getParentKey"

local function answer(code, field)
  if not withResult then
    return code
  end
  local result = field and redis.call("HGET", jobKey, field) or false
  return {code, result}
end

if redis.call("EXISTS", jobKey) ~= 1 then
  return answer(-1, nil)
end

if redis.call("ZSCORE", completedKey, jobId) ~= false then
  return answer(1, "returnvalue")
end

if redis.call("ZSCORE", failedKey, jobId) ~= false then
  return answer(2, "failedReason")
end

-- A parent whose children failed is reported as failed although it still waits for them.
local parentKey = getParentKey(jobKey)
if parentKey and redis.call("HEXISTS", jobKey, "failedReason") == 1 then
  return answer(2, "failedReason")
end

return answer(0, nil)
