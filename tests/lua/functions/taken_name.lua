#!lua name=fn_taken_name
-- Registers a function name that fn_bank registers too: a server with fn_bank refuses it.
redis.register_function('fn_role', function(keys, args) return 'not the bank' end)
