--[[
  The last steps of taking a job: count it against the rate limit, take its lock, record when
  processing started, and return the job's fields for the worker.
]]
--- @include "emitEvent"

local function prepareJobForProcessing(keyPrefix, rateLimiterKey, eventsKey, processedOn,
                                       jobId, opts, maxEvents)
  local jobKey = keyPrefix .. jobId
  local maxJobs = tonumber(opts["limiter"] and opts["limiter"]["max"])
  if maxJobs then
    local jobCounter = redis.call("INCR", rateLimiterKey)
    if jobCounter == 1 then
      local limiterDuration = opts["limiter"]["duration"]
      redis.call("PEXPIRE", rateLimiterKey, limiterDuration)
    end
  end
  if opts["token"] ~= "0" then
    local lockKey = jobKey .. ":lock"
    redis.call("SET", lockKey, opts["token"], "PX", opts["lockDuration"])
  end
  emitEvent(eventsKey, maxEvents, "active", "jobId", jobId, "prev", "waiting")
  redis.call("HSET", jobKey, "processedOn", processedOn)
  redis.call("HINCRBY", jobKey, "ats", 1)
  return {redis.call("HGETALL", jobKey), jobId, 0, 0}
end
