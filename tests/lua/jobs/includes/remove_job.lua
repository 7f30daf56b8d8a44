--- @include "keys"
local function remove_job(prefix, list, id)
  redis.call('LREM', list, 0, id)
  return redis.call('DEL', job_key(prefix, id))
end
