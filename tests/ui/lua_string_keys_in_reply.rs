// A table with string keys arrives as an empty array: Redis drops all but the array part.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_string_keys_in_reply.lua", returns = Vec<String>)]
struct Visit<'a> {
    #[key]
    user: &'a str,
}

fn main() {}
