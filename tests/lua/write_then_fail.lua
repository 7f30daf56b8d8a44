-- Appends ARGV[1] to the list, then fails: Redis keeps the write (no rollback).
redis.call('RPUSH', KEYS[1], ARGV[1])
error('failed after writing')
