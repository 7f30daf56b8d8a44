// `standalone_only` is given twice.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/lua/duplicate_standalone_only.lua",
    standalone_only,
    standalone_only
)]
struct Ping;

fn main() {}
