// The variadic key is not the last key.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_not_last.lua")]
struct Union {
    #[key(variadic)]
    sources: Vec<String>,
    #[key]
    destination: String,
}

fn main() {}
