// A subcommand that the container command does not have.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unknown_subcommand.lua", returns = String)]
struct Encoding<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
