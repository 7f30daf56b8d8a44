// A misspelled command name: Redis answers "Unknown Redis command called from script".
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unknown_command.lua", returns = i64)]
struct AddPoints<'a> {
    #[key]
    scores: &'a str,
    #[arg]
    player: &'a str,
    #[arg]
    points: i64,
}

fn main() {}
