// No #[redis_script(path = "...")] at all.
#[derive(redis_script::RedisScript)]
struct Incr {
    #[key]
    counter: String,
}

fn main() {}
