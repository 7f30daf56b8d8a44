--[[
  Whether a job's lock is held by some worker.
]]
local function isLocked(jobKey)
  return redis.call("EXISTS", jobKey .. ":lock") == 1
end
