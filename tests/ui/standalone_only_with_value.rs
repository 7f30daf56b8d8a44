// `standalone_only` is a flag, not `standalone_only = true`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/standalone_only_with_value.lua", standalone_only = true)]
struct Ping;

fn main() {}
