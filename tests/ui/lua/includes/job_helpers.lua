--- @include "timestamps"
local function touch_job(key)
  return redis.call('HSETT', key, 'touched', now_ms())
end
