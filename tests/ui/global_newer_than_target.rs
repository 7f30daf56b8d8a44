// `os.clock` came with Redis 7.4 (and Valkey 8.0); the struct declares redis-7.2.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/global_newer_than_target.lua", returns = i64, server = "redis-7.2")]
struct TimedIncrement<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
