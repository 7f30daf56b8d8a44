// Generic parameters named like the ones the derive's methods declare (`C`, `'connection`).
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/generic_names.lua")]
struct Set<'connection, C: redis::ToSingleRedisArg> {
    #[key]
    key: &'connection str,
    #[arg]
    value: C,
}

#[allow(dead_code)]
fn invoke(connection: &mut redis::Connection) -> Result<redis::Value, redis_script::Error> {
    Set { key: "k", value: 1 }.invoke(connection)
}

#[allow(dead_code)]
async fn invoke_async<'connection, C: redis::ToSingleRedisArg>(
    set: &Set<'connection, C>,
    connection: &mut redis::aio::MultiplexedConnection,
) -> Result<redis::Value, redis_script::Error> {
    set.invoke_async(connection).await
}

fn main() {
    use redis_script::Script;
    let command = Set {
        key: "k",
        value: "v",
    }
    .evalsha_command();
    // EVALSHA sha1 1 k v
    assert_eq!(command.args_iter().count(), 5);
}
