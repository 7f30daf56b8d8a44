// `#!lua flags=no-write`: the flag is `no-writes`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_shebang_flag.lua")]
struct Ping;

fn main() {}
