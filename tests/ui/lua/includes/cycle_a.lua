--- @include "cycle_b"
local function a() return 1 end
