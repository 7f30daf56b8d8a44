// Assigning a global: Redis 7 makes the globals table read-only.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_global_assignment.lua", returns = i64)]
struct Total<'a> {
    #[key]
    list: &'a str,
}

fn main() {}
