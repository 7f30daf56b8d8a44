// `path` is given twice.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/duplicate_path.lua", path = "ui/lua/duplicate_path.lua")]
struct Ping;

fn main() {}
