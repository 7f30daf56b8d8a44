-- Token-bucket rate limiter.
-- KEYS[1]: the bucket (hash: tokens, updated). ARGV[1]: capacity. ARGV[2]: tokens per second.
-- ARGV[3]: now (ms). ARGV[4]: tokens requested.
-- Returns {allowed (1/0), tokens left (rounded down)}.
local bucket = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])

local state = redis.call('HMGET', bucket, 'tokens', 'updated')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
local elapsed = math.max(0, now - updated)
tokens = math.min(capacity, tokens + elapsed * rate / 1000)

local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end
redis.call('HSET', bucket, 'tokens', tokens, 'updated', now)
redis.call('PEXPIRE', bucket, math.ceil(capacity / rate * 1000))
return {allowed, math.floor(tokens)}
