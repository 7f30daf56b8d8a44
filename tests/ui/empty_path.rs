// `path = ""` names no file.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "")]
struct Ping;

fn main() {}
