// `key` is marked #[key] twice.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/duplicate_key_attribute.lua")]
struct Get {
    #[key]
    #[key]
    key: String,
}

fn main() {}
