// The `#!` line names no engine: it should be `#!lua`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/shebang_without_engine.lua")]
struct Ping;

fn main() {}
