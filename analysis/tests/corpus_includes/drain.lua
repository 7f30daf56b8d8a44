--[[
  Removes the jobs that wait (and optionally the delayed ones), keeping active and finished
  jobs.

  Input:
    KEYS[1] 'wait'
    KEYS[2] 'paused'
    KEYS[3] 'delayed'
    KEYS[4] 'prioritized'
    KEYS[5] 'pc' (priority counter)
    KEYS[6] 'meta'

    ARGV[1] key prefix
    ARGV[2] also the delayed jobs ("1") or not

  Output:
    the number of jobs removed
]]
local waitKey = KEYS[1]
local pausedKey = KEYS[2]
local delayedKey = KEYS[3]
local prioritizedKey = KEYS[4]
local priorityCounterKey = KEYS[5]
local metaKey = KEYS[6]

local prefix = ARGV[1]
local withDelayed = ARGV[2] == "1"

--- @include "includes/isQueuePaused"
--- @include "includes/removeJobs"

local removed = 0

-- A paused queue keeps its waiting jobs in the paused list.
if isQueuePaused(metaKey) then
  removed = removed + removeListJobs(pausedKey, true, prefix, 0)
else
  removed = removed + removeListJobs(waitKey, true, prefix, 0)
end

if withDelayed then
  removed = removed + removeZSetJobs(delayedKey, true, prefix, 0)
end

removed = removed + removeZSetJobs(prioritizedKey, true, prefix, 0)
redis.call("DEL", priorityCounterKey)

return removed
