#!lua flags=no-writes
--[[
  The number of jobs in each of the given states.

  Input:
    KEYS[1] key prefix

    ARGV[1..n] state names

  Output:
    one count per state
]]
local prefix = KEYS[1]

--- @include "includes/isQueuePaused"

local listStates = {wait = true, paused = true, active = true}

local function countState(state)
  local stateKey = prefix .. state
  if listStates[state] then
    return redis.call("LLEN", stateKey)
  end
  return redis.call("ZCARD", stateKey)
end

local paused = isQueuePaused(prefix .. "meta")
local results = {}
for index = 1, #ARGV do
  local state = ARGV[index]
  -- A paused queue's waiting jobs are in 'paused', and the other way round.
  if state == "wait" and paused then
    state = "paused"
  elseif state == "paused" and not paused then
    state = "wait"
  end
  results[index] = countState(state)
end
return results
