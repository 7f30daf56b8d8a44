// `server` is Valkey's second name for `redis`; the default target is redis-7.0.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/global_of_other_server.lua", returns = i64)]
struct Increment<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    by: i64,
}

fn main() {}
