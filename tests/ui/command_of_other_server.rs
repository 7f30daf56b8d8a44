// DELIFEQ is a Valkey command (9.0); no Redis has it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/command_of_other_server.lua", returns = i64, server = "redis-8.2")]
struct ReleaseLock<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    token: &'a str,
}

fn main() {}
