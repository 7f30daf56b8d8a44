#!lua name=fn_conflicted
redis.register_function('fn_conflict_b', function(keys, args) return 'b' end)
