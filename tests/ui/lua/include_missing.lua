local removed = 0
--- @include "includes/removeJbo"
return removed + redis.call('DEL', KEYS[1])
