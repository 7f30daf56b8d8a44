// `server` names Redis or Valkey with a MAJOR.MINOR version of 7.0 or later.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/invalid_server_target.lua", server = "redis-6.2")]
struct Old;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/invalid_server_target.lua", server = "keydb-6.3")]
struct Other;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/invalid_server_target.lua", server = redis_7_4)]
struct NotAString;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/invalid_server_target.lua", server = "redis-7.4", server = "redis-8.0")]
struct Twice;

fn main() {}
