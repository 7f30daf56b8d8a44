// RedisScript on an enum.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/enum_input.lua")]
enum Ping {
    Once,
}

fn main() {}
