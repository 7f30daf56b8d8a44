// `#[redis_script]` without `(path = "...")`.
#[derive(redis_script::RedisScript)]
#[redis_script]
struct Ping;

fn main() {}
