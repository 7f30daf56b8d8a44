-- Charges ARGV[1] cents to the balance KEYS[1], every time it runs: not idempotent.
return redis.call('DECRBY', KEYS[1], ARGV[1])
