--[[
  The key of a job's parent, if it has one: stored as `parentKey`, or in the `parent` JSON
  written by older versions.
]]
local function getParentKey(jobKey)
  local parentKey = redis.call("HGET", jobKey, "parentKey")
  if parentKey then
    return parentKey
  end
  local parentData = redis.call("HGET", jobKey, "parent")
  if parentData then
    local parent = cjson.decode(parentData)
    if parent["queueKey"] and parent["id"] then
      return parent["queueKey"] .. ":" .. parent["id"]
    end
  end
  return nil
end
