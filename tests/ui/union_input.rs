// RedisScript on a union.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/union_input.lua")]
union Counter {
    #[key]
    key: &'static str,
}

fn main() {}
