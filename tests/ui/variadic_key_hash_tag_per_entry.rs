// The hash tag of a variadic key contains `{}`: each entry is hashed by its own value.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_key_hash_tag_per_entry.lua")]
struct DeleteUsers {
    #[key("{{user:{}}}", variadic)]
    users: Vec<String>,
}

fn main() {}
