#!lua name=fn_versioned
-- Version 2 of a library; the tests load version 1 by hand, as an older deploy would have.
redis.register_function('fn_version', function(keys, args) return 2 end)
redis.register_function('fn_version_added', function(keys, args) return 'new in version 2' end)
