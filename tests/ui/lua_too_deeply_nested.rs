// Nesting beyond Lua 5.1's 200 levels: Redis refuses the script ("chunk has too many syntax levels").
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_too_deeply_nested.lua", returns = i64)]
struct Deep;

fn main() {}
