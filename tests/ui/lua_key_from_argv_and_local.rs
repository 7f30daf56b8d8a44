// A key built on an ARGV value and a local: ARGV decides its hash tag, so its slot is unknown.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_key_from_argv_and_local.lua", returns = i64)]
struct Next<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    prefix: &'a str,
}

fn main() {}
