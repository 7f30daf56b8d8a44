// A key derived from KEYS[1] whose template has no hash tag: it may hash to another slot.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_derived_key_without_hash_tag.lua", returns = i64)]
struct TouchUser<'a> {
    #[key("user:{}")]
    user: &'a str,
}

fn main() {}
