// A variadic key without a template: each entry is hashed by its own value.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_key_without_hash_tag.lua")]
struct DeleteAll {
    #[key(variadic)]
    keys: Vec<String>,
}

fn main() {}
