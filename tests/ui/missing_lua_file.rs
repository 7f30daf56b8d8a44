// `path` names a file that does not exist.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/does_not_exist.lua")]
struct Missing;

fn main() {}
