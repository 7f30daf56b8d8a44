// `#!lua name=x`: Redis only knows the `flags=` option.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_shebang_option.lua")]
struct Ping;

fn main() {}
