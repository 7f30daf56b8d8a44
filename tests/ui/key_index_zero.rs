// The script reads KEYS[0], which is always nil: Lua arrays start at 1.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_index_zero.lua")]
struct GetSet<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
