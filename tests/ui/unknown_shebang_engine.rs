// `#!python`: Redis only runs `#!lua` scripts.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_shebang_engine.lua")]
struct Ping;

fn main() {}
