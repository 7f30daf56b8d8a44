--[[
  Writes a new job's hash and announces it. Returns its delay and priority.
]]
local function storeJob(eventsKey, jobIdKey, jobId, name, data, opts, timestamp, parentKey,
                        parentData, repeatJobKey)
  local jsonOpts = cjson.encode(opts)
  local delay = opts["delay"] or 0
  local priority = opts["priority"] or 0
  local optionalValues = {}
  if parentKey ~= nil then
    table.insert(optionalValues, "parentKey")
    table.insert(optionalValues, parentKey)
    table.insert(optionalValues, "parent")
    table.insert(optionalValues, parentData)
  end
  if repeatJobKey ~= nil then
    table.insert(optionalValues, "rjk")
    table.insert(optionalValues, repeatJobKey)
  end
  redis.call("HMSET", jobIdKey, "name", name, "data", data, "opts", jsonOpts, "timestamp",
    timestamp, "delay", delay, "priority", priority, unpack(optionalValues))
  redis.call("XADD", eventsKey, "*", "event", "added", "jobId", jobId, "name", name)
  return delay, priority
end
