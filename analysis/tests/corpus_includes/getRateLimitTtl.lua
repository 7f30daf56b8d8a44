#!lua flags=no-writes
--[[
  How long the queue stays rate limited.

  Input:
    KEYS[1] 'limiter'
    KEYS[2] 'meta'

    ARGV[1] max jobs (optional: the queue's own limit otherwise)

  Output:
    milliseconds, 0 when not limited
]]
local rateLimiterKey = KEYS[1]
local metaKey = KEYS[2]

local maxJobs = tonumber(ARGV[1])

--- @include "includes/isQueuePaused"

-- The same computation as includes/getRateLimitTTL, without its clean-up write: this script
-- only reads.
local function limitTtl(limit, key)
  local jobCounter = tonumber(redis.call("GET", key))
  if jobCounter == nil or jobCounter < limit then
    return 0
  end
  local pttl = redis.call("PTTL", key)
  if pttl > 0 then
    return pttl
  end
  return 0
end

if isQueuePaused(metaKey) then
  return 0
end

if not maxJobs then
  maxJobs = tonumber(redis.call("HGET", metaKey, "opts.limiter.max"))
end
if not maxJobs then
  return 0
end
return limitTtl(maxJobs, rateLimiterKey)
