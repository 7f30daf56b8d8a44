string.trim = function(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end
return string.trim(redis.call('GET', KEYS[1]))
