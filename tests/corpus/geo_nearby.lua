-- Geo: add a place and list the places within a radius of a point, nearest first.
-- KEYS[1]: the places. ARGV[1]: name. ARGV[2]: longitude. ARGV[3]: latitude.
-- ARGV[4]: search radius (km). Returns the names found.
redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], ARGV[1])
return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[2], ARGV[3], 'BYRADIUS', ARGV[4], 'km', 'ASC')
