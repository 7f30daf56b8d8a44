#!lua name=empty
local function incr(keys) return redis.call('INCR', keys[1]) end
