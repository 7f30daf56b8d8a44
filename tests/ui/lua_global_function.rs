// A global function: defining it assigns a global.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_global_function.lua", returns = i64)]
struct Double<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
