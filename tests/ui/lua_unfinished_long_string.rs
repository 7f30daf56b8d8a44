// A long string that is never closed.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unfinished_long_string.lua", returns = i64)]
struct Open;

fn main() {}
