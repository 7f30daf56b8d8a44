#!lua name=fn_assembled
--- @include "includes/checks"
local function main(keys, args)
  check(args[1])
  return args[1]
end
redis.register_function('fn_checked_echo', main)
