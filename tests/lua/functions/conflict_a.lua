#!lua name=fn_conflicted
redis.register_function('fn_conflict_a', function(keys, args) return 'a' end)
