// #[redis_script(...)] without `path`.
#[derive(redis_script::RedisScript)]
#[redis_script(returns = i64)]
struct Incr {
    #[key]
    counter: String,
}

fn main() {}
