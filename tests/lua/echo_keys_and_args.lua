-- Returns KEYS and ARGV as received, as two lists, so that callers see where each entry went.
return { KEYS, ARGV }
