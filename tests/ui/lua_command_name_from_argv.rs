// The command name comes from ARGV: its keys cannot be known.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_command_name_from_argv.lua")]
struct Run<'a> {
    #[key]
    key: &'a str,
    #[arg]
    command: &'a str,
}

fn main() {}
