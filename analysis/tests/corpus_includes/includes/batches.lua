--[[
  An iterator over [from, to] ranges of at most `batchSize` of `n` items, so that a command
  never receives more arguments than Lua's stack allows (`unpack` of a large table fails).
]]
local function batches(n, batchSize)
  local i = 0
  return function()
    local from = i * batchSize + 1
    i = i + 1
    if from <= n then
      local to = math.min(from + batchSize - 1, n)
      return from, to
    end
  end
end
