local total = 1
local next = total +
return next
