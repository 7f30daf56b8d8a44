-- Idempotency key: store the result of the request that ran, keeping the key's expiry.
-- KEYS[1]: the idempotency key. ARGV[1]: the result.
-- Returns 1 if stored, 0 if the key has expired or was already finished.
local key = KEYS[1]
local raw = redis.call('GET', key)
if not raw then
  return 0
end
local record = cjson.decode(raw)
if record.state ~= 'pending' then
  return 0
end
redis.call('SET', key, cjson.encode({state = 'done', result = ARGV[1]}), 'XX', 'KEEPTTL')
return 1
