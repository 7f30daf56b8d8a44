// `returns` is given twice.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/duplicate_returns.lua", returns = i64, returns = String)]
struct Ping;

fn main() {}
