// A misspelled global: Redis refuses to read a global it does not provide.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unknown_global.lua", returns = i64)]
struct Length<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
