// The Lua file is only a `#!lua` line, which Redis rejects.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/shebang_without_code.lua")]
struct Nothing;

fn main() {}
