// Lua 5.1 has no backtick strings.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_backtick.lua", returns = i64)]
struct Quoted;

fn main() {}
