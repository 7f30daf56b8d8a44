-- Key names of the queue, built on the prefix the caller passes (it carries the hash tag).
local function job_key(prefix, id)
  return prefix .. 'job:' .. id
end
