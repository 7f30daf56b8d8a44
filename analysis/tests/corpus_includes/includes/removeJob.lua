--[[
  Removes a job: its keys, and its entry among its parent's dependencies.
]]
--- @include "removeJobKeys"
--- @include "removeParentDependency"

local function removeJob(jobId, hard, baseKey)
  local jobKey = baseKey .. jobId
  removeParentDependency(jobKey, hard, baseKey)
  return removeJobKeys(jobKey)
end
