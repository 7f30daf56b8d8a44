--- @include "includes/timestamps"
local function touch(key)
  return redis.call('HSET', key, 'touched', now_ms())
end
return touch(KEYS[1])
