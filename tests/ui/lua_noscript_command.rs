// WATCH is flagged `noscript`: Redis refuses it inside a script.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_noscript_command.lua", returns = i64)]
struct GuardedIncr<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
