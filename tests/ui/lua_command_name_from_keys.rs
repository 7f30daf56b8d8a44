// The command name comes from KEYS: which keys the call touches cannot be known.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_command_name_from_keys.lua", returns = i64)]
struct Run<'a> {
    #[key]
    command: &'a str,
}

fn main() {}
