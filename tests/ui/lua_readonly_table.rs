// Adding a function to the sandbox's `string` table, which is read-only.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_readonly_table.lua", returns = String)]
struct Trimmed<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
