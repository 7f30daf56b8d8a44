local function b() return 2 end
--- @include "cycle_a.lua"
