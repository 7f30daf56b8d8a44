// A script whose Lua the derive refuses: the Lua error is the only error, not one more at
// every call site.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/error_without_cascade.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

fn count(connection: &mut redis_script::redis::Connection) -> i64 {
    let total: i64 = Incr { counter: "visits" }.invoke(connection).unwrap();
    total
}

async fn count_async(connection: &mut redis_script::redis::aio::MultiplexedConnection) -> i64 {
    Incr { counter: "visits" }.invoke_async(connection).await.unwrap()
}

fn main() {
    let _ = (count, count_async);
}
