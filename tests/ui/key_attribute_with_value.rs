// `#[key = ...]` is not a form of #[key].
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_attribute_with_value.lua")]
struct Get {
    #[key = "user:{}"]
    user: String,
}

fn main() {}
