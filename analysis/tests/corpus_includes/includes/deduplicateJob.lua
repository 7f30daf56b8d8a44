--[[
  A job with a deduplication id is not added while another job with that id exists (or, with
  a ttl, for that long). Returns the id of the job that is kept, or nil to add this one.
]]
local function deduplicateJob(deduplicationOpts, jobId, deduplicationKey, eventsKey, maxEvents)
  local deduplicationId = deduplicationOpts and deduplicationOpts["id"]
  if not deduplicationId then
    return nil
  end
  local ttl = deduplicationOpts["ttl"]
  local stored
  if ttl and ttl > 0 then
    stored = redis.call("SET", deduplicationKey, jobId, "PX", ttl, "NX")
  else
    stored = redis.call("SET", deduplicationKey, jobId, "NX")
  end
  if stored then
    return nil
  end
  local currentId = redis.call("GET", deduplicationKey)
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "deduplicated",
    "jobId", currentId, "deduplicationId", deduplicationId, "deduplicatedJobId", jobId)
  return currentId
end
