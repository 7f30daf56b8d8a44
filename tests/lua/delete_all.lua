-- Deletes every key given and returns ARGV's count with the number deleted.
return { redis.call('DEL', unpack(KEYS)), #ARGV }
