#!lua
-- A script without keys and without `no-writes`: Redis runs it on primaries only.
-- Returns the role of the node that ran it: "master" (replicas refuse it).
local info = redis.call('INFO', 'replication')
return string.match(info, 'role:(%a+)')
