// `redis.SERVER_NAME` is Valkey's; no Redis has it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/library_member_of_other_server.lua", returns = i64, server = "redis-8.2")]
struct LoggedIncrement<'a> {
    #[key]
    counter: &'a str,
}

fn main() {}
