// HEXPIRE came with Redis 7.4; a crate that declares no minimum server must run on Redis 7.0.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/command_newer_than_target.lua", returns = Vec<i64>)]
struct ExpireField<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    seconds: u32,
    #[arg]
    field: &'a str,
}

fn main() {}
