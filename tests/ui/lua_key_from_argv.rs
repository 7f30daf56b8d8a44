// A key built from ARGV, through a local variable.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_key_from_argv.lua", returns = i64)]
struct ReleaseLock<'a> {
    #[arg]
    name: &'a str,
}

fn main() {}
