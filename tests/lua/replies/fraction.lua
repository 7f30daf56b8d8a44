-- 3.7 on purpose: the test shows what Redis makes of it.
return tonumber(ARGV[1]) / 10 -- redis-script: allow(fraction_in_reply)
