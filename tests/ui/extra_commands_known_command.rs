// `HINCRBY` is in the command table: listing it would only switch its checks off.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/lua/extra_commands_known_command.lua",
    returns = i64,
    extra_commands = ["DELEX", "HINCRBY"]
)]
struct Bump<'a> {
    #[key]
    hash: &'a str,
}

fn main() {}
