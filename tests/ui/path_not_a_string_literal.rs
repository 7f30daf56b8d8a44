// `path` must be a string literal.
#[derive(redis_script::RedisScript)]
#[redis_script(path = ping.lua)]
struct Ping;

fn main() {}
