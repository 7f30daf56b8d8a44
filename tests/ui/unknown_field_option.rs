// `#[key(foo)]`: the only option is `variadic`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_field_option.lua")]
struct Get {
    #[key(foo)]
    key: String,
}

fn main() {}
