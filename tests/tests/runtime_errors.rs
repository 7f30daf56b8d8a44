//! Script errors from a real `redis-server`, mapped to the Lua file and line: Redis reports
//! them as `user_script:N: ...` (Lua runtime errors, `error()`) or with `..., on
//! @user_script:N.` only (a failed `redis.call`, `WRONGTYPE`, `error({err = ...})`), and
//! `redis_script::Error::Script` gives the path, the line and the source line either way.

use std::sync::OnceLock;

use redis::Commands;
use redis_script::{Error, RedisScript, ScriptError};
use throwaway_redis::RedisServer;

fn server() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| RedisServer::start().expect("start redis-server"))
}

fn connection() -> redis::Connection {
    server().connection().expect("connect to redis-server")
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/arithmetic.lua", returns = i64)]
struct AddToCounter<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    amount: i64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/raise.lua", returns = i64)]
struct CheckQuota<'a> {
    #[key]
    used: &'a str,
    #[arg]
    quota: i64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/raise_code.lua", returns = i64)]
struct RefuseExisting<'a> {
    #[key]
    key: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/failed_call.lua", returns = i64)]
struct SetFromArgs<'a> {
    #[key]
    key: &'a str,
    #[arg(variadic)]
    values: Vec<&'a str>,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/wrong_type.lua", returns = i64)]
struct PushAfterLength<'a> {
    #[key]
    key: &'a str,
    #[arg]
    value: &'a str,
}

/// The error must be `Error::Script` at `line` of `path`, quoting `source_line`, with
/// `message`; Display shows `path:line: message` and the quoted line.
#[track_caller]
fn assert_script_error(
    error: Error,
    path: &str,
    line: usize,
    source_line: &str,
    message: &str,
) -> ScriptError {
    let rendered = error.to_string();
    let Error::Script(script_error) = error else {
        panic!("expected Error::Script, got {error:?}");
    };
    assert_eq!(script_error.path(), path);
    assert_eq!(script_error.line(), line, "{rendered}");
    assert_eq!(script_error.source_line(), Some(source_line), "{rendered}");
    assert_eq!(script_error.message(), message, "{rendered}");
    assert_eq!(
        rendered,
        format!("{path}:{line}: {message}\n{line:>5} | {source_line}"),
        "Display"
    );
    assert!(!rendered.contains("user_script"), "{rendered}");
    script_error
}

#[test]
fn lua_runtime_error_names_the_line() {
    let mut con = connection();
    let () = con.set("errors:counter", "not a number").unwrap();
    // Twice: once through the EVAL fallback (NOSCRIPT), once through EVALSHA.
    for _ in 0..2 {
        let error = AddToCounter {
            counter: "errors:counter",
            amount: 1,
        }
        .invoke(&mut con)
        .unwrap_err();
        let script_error = assert_script_error(
            error,
            "lua/errors/arithmetic.lua",
            3,
            "local next_value = current + ARGV[1]",
            "attempt to perform arithmetic on local 'current' (a string value)",
        );
        assert_eq!(script_error.redis_error().code(), Some("ERR"));
    }
}

#[test]
fn error_call_names_the_line() {
    let mut con = connection();
    let () = con.set("errors:used", 5).unwrap();
    assert_eq!(
        CheckQuota {
            used: "errors:used",
            quota: 10
        }
        .invoke(&mut con)
        .unwrap(),
        5
    );
    let error = CheckQuota {
        used: "errors:used",
        quota: 5,
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_eq!(error.code(), Some("ERR"));
    assert_script_error(
        error,
        "lua/errors/raise.lua",
        4,
        "  error('quota exceeded: ' .. used)",
        "quota exceeded: 5",
    );
}

#[test]
fn error_table_keeps_its_code_and_names_the_line() {
    let mut con = connection();
    let () = con.set("errors:existing", 1).unwrap();
    let error = RefuseExisting {
        key: "errors:existing",
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_eq!(error.code(), Some("QUOTA"));
    assert_script_error(
        error,
        "lua/errors/raise_code.lua",
        3,
        "  error({err = 'QUOTA exceeded for ' .. KEYS[1]})",
        "QUOTA exceeded for errors:existing",
    );
}

#[test]
fn failed_redis_call_names_the_line() {
    let mut con = connection();
    assert_eq!(
        SetFromArgs {
            key: "errors:set",
            values: vec!["v"]
        }
        .invoke(&mut con)
        .unwrap(),
        1
    );
    let error = SetFromArgs {
        key: "errors:set",
        values: vec![],
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_script_error(
        error,
        "lua/errors/failed_call.lua",
        2,
        "redis.call('SET', KEYS[1], unpack(ARGV))",
        "Wrong number of args calling Redis command from script",
    );
}

#[test]
fn wrongtype_names_the_line_and_keeps_the_code() {
    let mut con = connection();
    let () = con.set("errors:string", "text").unwrap();
    let error = PushAfterLength {
        key: "errors:string",
        value: "x",
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_eq!(error.code(), Some("WRONGTYPE"));
    assert_script_error(
        error,
        "lua/errors/wrong_type.lua",
        3,
        "redis.call('LPUSH', KEYS[1], ARGV[1])",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
    assert_eq!(
        PushAfterLength {
            key: "errors:list",
            value: "x"
        }
        .invoke(&mut con)
        .unwrap(),
        0
    );
}

#[tokio::test]
async fn async_invocations_map_errors_the_same_way() {
    let mut con = server()
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let () = redis::cmd("SET")
        .arg("errors:async")
        .arg("text")
        .query_async(&mut con)
        .await
        .unwrap();
    let error = PushAfterLength {
        key: "errors:async",
        value: "x",
    }
    .invoke_async(&mut con)
    .await
    .unwrap_err();
    assert_script_error(
        error,
        "lua/errors/wrong_type.lua",
        3,
        "redis.call('LPUSH', KEYS[1], ARGV[1])",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
}
