// `key` is marked both #[key] and #[arg].
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/field_with_both_roles.lua")]
struct Get {
    #[key]
    #[arg]
    key: String,
}

fn main() {}
