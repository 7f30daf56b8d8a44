// Lifetime and type parameters with bounds. A plain #[arg] of a type parameter needs
// `redis::ToSingleRedisArg` (a `redis::ToRedisArgs` that is exactly one argument).
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/generics.lua")]
struct Set<'a, T: redis::ToSingleRedisArg> {
    #[key]
    key: &'a str,
    #[arg]
    value: T,
}

fn main() {
    let _ = Set { key: "k", value: 1 }.evalsha_command();
    let _ = Set {
        key: "k",
        value: "v",
    }
    .evalsha_command();
    assert_eq!(Set::<'static, i64>::ARG_FIELDS, &["value"]);
}
