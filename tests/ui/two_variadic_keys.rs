// Two variadic keys: KEYS cannot be split between two lists of unknown length.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/two_variadic_keys.lua")]
struct Move {
    #[key(variadic)]
    sources: Vec<String>,
    #[key(variadic)]
    destinations: Vec<String>,
}

fn main() {}
