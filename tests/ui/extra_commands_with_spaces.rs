// A subcommand is named `CONTAINER|SUB`, not with a space.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/extra_commands_with_spaces.lua", extra_commands = ["CLIENT NO-TOUCH"])]
struct Touchless<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
