-- Idempotency key: the first request with a key runs; repeats get its stored result.
-- KEYS[1]: the idempotency key. ARGV[1]: time to keep it (s).
-- Returns {'run'} for the first request, {'pending'} while it runs, {'done', result} after.
local key = KEYS[1]
if redis.call('SET', key, cjson.encode({state = 'pending'}), 'NX', 'EX', ARGV[1]) then
  return {'run'}
end
local record = cjson.decode(redis.call('GET', key))
if record.state == 'done' then
  return {'done', record.result}
end
return {'pending'}
