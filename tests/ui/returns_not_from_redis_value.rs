// `returns` names a type that does not implement redis::FromRedisValue.
struct Total {
    amount: i64,
}

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/returns_not_from_redis_value.lua", returns = Total)]
struct Incr {
    #[key]
    counter: String,
}

fn main() {}
