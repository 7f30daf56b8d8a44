--[[
  How long, in milliseconds, the rate limiter still holds the queue; 0 when it does not.
]]
local function getRateLimitTTL(maxJobs, rateLimiterKey)
  if maxJobs and maxJobs > 0 then
    local jobCounter = tonumber(redis.call("GET", rateLimiterKey))
    if jobCounter ~= nil and jobCounter >= maxJobs then
      local pttl = redis.call("PTTL", rateLimiterKey)
      if pttl == 0 then
        redis.call("DEL", rateLimiterKey)
      end
      if pttl > 0 then
        return pttl
      end
    end
  end
  return 0
end
