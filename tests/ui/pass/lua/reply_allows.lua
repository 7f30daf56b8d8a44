-- The fraction is dropped on purpose: callers want whole seconds.
return {redis.call('PTTL', KEYS[1]) / 1000, false} -- redis-script: allow(fraction_in_reply)
