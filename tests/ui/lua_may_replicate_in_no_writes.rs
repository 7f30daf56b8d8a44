// `PUBLISH` may replicate, which a `no-writes` script may not do.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_may_replicate_in_no_writes.lua", returns = i64)]
struct Announce<'a> {
    #[arg]
    message: &'a str,
}

fn main() {}
