--- @include "includes/cycle_a"
return redis.call('DEL', KEYS[1])
