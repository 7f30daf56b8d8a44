--[[
  Finds the active jobs whose worker died (no lock since the last check) and moves them back
  to wait, or to failed once they have stalled too often. Then marks every active job as a
  candidate for the next check.

  Input:
    KEYS[1] 'stalled'
    KEYS[2] 'wait'
    KEYS[3] 'active'
    KEYS[4] 'failed'
    KEYS[5] 'stalled-check'
    KEYS[6] 'meta'
    KEYS[7] 'paused'
    KEYS[8] 'marker'
    KEYS[9] 'events'

    ARGV[1] max stalled count
    ARGV[2] key prefix
    ARGV[3] timestamp
    ARGV[4] max check time (milliseconds)

  Output:
    {failed job ids, stalled job ids}
]]
local stalledKey = KEYS[1]
local waitKey = KEYS[2]
local activeKey = KEYS[3]
local failedKey = KEYS[4]
local stalledCheckKey = KEYS[5]
local metaKey = KEYS[6]
local pausedKey = KEYS[7]
local markerKey = KEYS[8]
local eventsKey = KEYS[9]

local maxStalledJobCount = tonumber(ARGV[1])
local queueKeyPrefix = ARGV[2]
local timestamp = ARGV[3]
local maxCheckTime = ARGV[4]

--- @include "includes/addJobInTargetList"
--- @include "includes/batches"
--- @include "includes/getMaxEvents"
--- @include "includes/getTargetQueueList"
--- @include "includes/isLocked"
--- @include "includes/removeJob"
--- @include "includes/trimFinishedJobs"

-- One check per period, whatever the number of workers.
if redis.call("EXISTS", stalledCheckKey) == 1 then
  return {{}, {}}
end
redis.call("SET", stalledCheckKey, timestamp, "PX", maxCheckTime)

local maxEvents = getMaxEvents(metaKey)
redis.call("XTRIM", eventsKey, "MAXLEN", "~", maxEvents)

local stalling = redis.call("SMEMBERS", stalledKey)
local stalled = {}
local failed = {}
if #stalling > 0 then
  redis.call("DEL", stalledKey)
  for _, jobId in ipairs(stalling) do
    local jobKey = queueKeyPrefix .. jobId
    if not isLocked(jobKey) then
      -- Still active without a lock: its worker is gone.
      local removed = redis.call("LREM", activeKey, 1, jobId)
      if removed > 0 then
        local stalledCount = redis.call("HINCRBY", jobKey, "stc", 1)
        if stalledCount > maxStalledJobCount then
          local rawOpts = redis.call("HGET", jobKey, "opts")
          local opts = cjson.decode(rawOpts)
          local failedReason = "job stalled more than allowable limit"
          redis.call("ZADD", failedKey, timestamp, jobId)
          redis.call("HSET", jobKey, "failedReason", failedReason, "finishedOn", timestamp)
          redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "failed",
            "jobId", jobId, "failedReason", failedReason, "prev", "active")
          local keepJobs = opts["removeOnFail"]
          if type(keepJobs) == "table" then
            trimFinishedJobs(failedKey, queueKeyPrefix, keepJobs, timestamp)
          elseif keepJobs == true then
            removeJob(jobId, false, queueKeyPrefix)
            redis.call("ZREM", failedKey, jobId)
          end
          table.insert(failed, jobId)
        else
          local target, isPausedOrMaxed = getTargetQueueList(metaKey, activeKey, waitKey,
            pausedKey)
          addJobInTargetList(target, markerKey, "RPUSH", isPausedOrMaxed, jobId)
          redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting",
            "jobId", jobId, "prev", "active")
          redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "stalled",
            "jobId", jobId)
          table.insert(stalled, jobId)
        end
      end
    end
  end
end

-- Every job active now is a suspect for the next check, unless its lock is renewed.
local active = redis.call("LRANGE", activeKey, 0, -1)
for from, to in batches(#active, 7000) do
  redis.call("SADD", stalledKey, unpack(active, from, to))
end

return {failed, stalled}
