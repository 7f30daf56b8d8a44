// A minimum server per struct: commands of newer servers compile when the struct declares
// that it only runs on them.

/// HEXPIRE: Redis 7.4 (and Valkey 9.0).
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/hexpire.lua", returns = Vec<i64>, server = "redis-7.4")]
struct ExpireField<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    seconds: u32,
    #[arg]
    field: &'a str,
}

/// The same script, for Valkey 9.0.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/hexpire.lua", returns = Vec<i64>, server = "valkey-9.0")]
struct ExpireFieldOnValkey<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    seconds: u32,
    #[arg]
    field: &'a str,
}

/// DELIFEQ: Valkey 9.0 only.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/delifeq.lua", returns = i64, server = "valkey-9.0")]
struct ReleaseLock<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    token: &'a str,
}

/// ZRANK ... WITHSCORE: Redis 7.2 (and every Valkey).
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/zrank_withscore.lua", server = "redis-7.2")]
struct RankWithScore<'a> {
    #[key]
    board: &'a str,
    #[arg]
    member: &'a str,
}

/// `server.call`: Valkey's name for `redis`, in every Valkey.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/valkey_server_global.lua", returns = i64, server = "valkey-7.2")]
struct IncrementOnValkey<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    by: i64,
}

fn main() {
    use redis_script::Script;
    let expire = ExpireField { hash: "h", seconds: 60, field: "f" }.evalsha_command();
    assert_eq!(expire.args_iter().count(), 6);
    let expire = ExpireFieldOnValkey { hash: "h", seconds: 60, field: "f" }.evalsha_command();
    assert_eq!(expire.args_iter().count(), 6);
    assert_eq!(ReleaseLock { lock: "l", token: "t" }.evalsha_command().args_iter().count(), 5);
    assert_eq!(RankWithScore { board: "b", member: "m" }.evalsha_command().args_iter().count(), 5);
    assert_eq!(IncrementOnValkey { counter: "c", by: 2 }.evalsha_command().args_iter().count(), 5);
}
