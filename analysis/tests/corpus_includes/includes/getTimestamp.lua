--[[
  The server's clock in milliseconds. Scripts have no `os` library: TIME is the only clock.
]]
local function getTimestamp()
  local time = redis.call("TIME")
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
