// HEXPIRE is in the command table (Redis 7.4): raise the minimum server instead of switching
// its checks off.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/lua/extra_commands_newer_command.lua",
    returns = Vec<i64>,
    extra_commands = ["HEXPIRE"]
)]
struct ExpireField<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    seconds: u32,
    #[arg]
    field: &'a str,
}

fn main() {}
