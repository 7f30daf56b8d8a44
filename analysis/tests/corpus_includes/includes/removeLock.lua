--[[
  Releases a job's lock if `token` holds it. Returns 0, or -2 if the lock is missing, -6 if
  another worker holds it. Token "0" means the job was processed without a lock.
]]
local function removeLock(jobKey, stalledKey, token, jobId)
  if token == "0" then
    return 0
  end
  local lockKey = jobKey .. ":lock"
  local lockToken = redis.call("GET", lockKey)
  if lockToken == token then
    redis.call("DEL", lockKey)
    redis.call("SREM", stalledKey, jobId)
    return 0
  end
  if lockToken then
    return -6
  end
  return -2
end
