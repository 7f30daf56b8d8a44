// `foo = 1` is not a redis_script attribute.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_struct_attribute.lua", foo = 1)]
struct Ping;

fn main() {}
