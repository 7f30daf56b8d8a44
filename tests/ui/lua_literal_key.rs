// A literal key name: the key is not declared, so a cluster refuses it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_literal_key.lua", returns = i64)]
struct Visit<'a> {
    #[key]
    page: &'a str,
}

fn main() {}
