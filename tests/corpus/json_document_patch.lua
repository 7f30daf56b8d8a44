-- A JSON document with a version: set one field if the caller saw the latest version.
-- KEYS[1]: the document. ARGV[1]: expected version. ARGV[2]: field. ARGV[3]: value.
-- Returns the new version, or -1 on a version conflict.
local raw = redis.call('GET', KEYS[1])
local document = raw and cjson.decode(raw) or {version = 0}
if document.version ~= tonumber(ARGV[1]) then
  return -1
end
document[ARGV[2]] = ARGV[3]
document.version = document.version + 1
redis.call('SET', KEYS[1], cjson.encode(document))
return document.version
