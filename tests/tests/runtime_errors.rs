//! Script errors from a real `redis-server`, mapped to the Lua file and line: Redis reports
//! them as `user_script:N: ...` (Lua runtime errors, `error()`) or with `..., on
//! @user_script:N.` only (a failed `redis.call`, `WRONGTYPE`, `error({err = ...})`), and
//! `redis_script::Error::Script` gives the path, the line and the source line either way.

use redis::Commands;
use redis_script::{Error, RedisFunction, RedisScript, ScriptError};
use throwaway_redis::{RedisServer, ServerKind};

/// Which server the tests talk to: Valkey words some refusals without "Redis".
fn server_kind() -> ServerKind {
    throwaway_redis::server_version()
        .expect("the server binary")
        .kind
}

/// One server per test, stopped (and its directory removed) when the test drops it.
fn server() -> RedisServer {
    RedisServer::start().expect("start redis-server")
}

fn connection(server: &RedisServer) -> redis::Connection {
    server.connection().expect("connect to redis-server")
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

// A few values at most: `unpack(ARGV)` would fail from 8,000 on.
#[derive(RedisScript)]
#[redis_script(
    path = "lua/errors/failed_call.lua",
    returns = i64,
    allow(unbounded_unpack)
)]
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

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/rethrow.lua", returns = i64)]
struct ParseNumber<'a> {
    #[arg]
    value: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/errors/compile_error.lua", returns = i64)]
struct BreakOutsideLoop {
    #[arg]
    limit: i64,
}

/// `DELEX` is a Redis 8.4 command, newer than the command table: named in `extra_commands`, it
/// compiles, and the servers of the tests (Redis 7.0, Valkey 8.1) refuse it at run time.
#[derive(RedisScript)]
#[redis_script(
    path = "lua/errors/newer_command.lua",
    returns = i64,
    extra_commands = ["DELEX"]
)]
struct ExpireField<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    field: &'a str,
}

/// `server` is Valkey's second name for `redis`, which the analysis accepts for a Valkey
/// target (every Valkey has it) and refuses for a Redis one (no Redis has it).
#[derive(RedisScript)]
#[redis_script(
    path = "lua/errors/valkey_server_global.lua",
    returns = i64,
    server = "valkey-7.2"
)]
struct IncrementOnValkey<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    by: i64,
}

/// A Valkey library registering through `server.register_function`.
#[derive(RedisFunction)]
#[redis_function(
    library = "lua/errors/valkey_counters.lua",
    function = "valkey_bump",
    returns = i64,
    server = "valkey-7.2"
)]
struct BumpOnValkey<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    by: i64,
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
    let server = server();
    let mut con = connection(&server);
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
    let server = server();
    let mut con = connection(&server);
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
    let server = server();
    let mut con = connection(&server);
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
    let server = server();
    let mut con = connection(&server);
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
        match server_kind() {
            ServerKind::Redis => "Wrong number of args calling Redis command from script",
            ServerKind::Valkey => "Wrong number of args calling command from script",
        },
    );
}

#[test]
fn an_extra_command_reaches_the_server_unchecked() {
    let server = server();
    let mut con = connection(&server);
    let error = ExpireField {
        hash: "errors:hash",
        field: "f",
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_script_error(
        error,
        "lua/errors/newer_command.lua",
        2,
        "return redis.call('DELEX', KEYS[1], 'IFEQ', ARGV[1])",
        match server_kind() {
            ServerKind::Redis => "Unknown Redis command called from script",
            ServerKind::Valkey => "Unknown command called from script",
        },
    );
    // The line before it ran: the call went to the server as written.
    let written: Option<i64> = con.hget("errors:hash", "f").unwrap();
    assert_eq!(written, Some(1));
}

#[test]
fn valkeys_server_global_runs_on_valkey_only() {
    let server = server();
    let mut con = connection(&server);
    let result = IncrementOnValkey {
        counter: "errors:valkey",
        by: 2,
    }
    .invoke(&mut con);
    match server_kind() {
        ServerKind::Valkey => assert_eq!(result.unwrap(), 2),
        // What the analysis reports for a Redis target, as the server says it.
        ServerKind::Redis => {
            assert_script_error(
                result.unwrap_err(),
                "lua/errors/valkey_server_global.lua",
                2,
                "local name = server.SERVER_NAME",
                "Script attempted to access nonexistent global variable 'server'",
            );
        }
    }
}

#[test]
fn a_valkey_library_registering_through_server_loads_on_valkey_only() {
    let server = server();
    let mut con = connection(&server);
    let result = BumpOnValkey {
        counter: "errors:valkey-function",
        by: 3,
    }
    .invoke(&mut con);
    match server_kind() {
        ServerKind::Valkey => assert_eq!(result.unwrap(), 3),
        // Redis has no `server` global, so it refuses the library, as the analysis says for a
        // Redis target; nothing ran.
        ServerKind::Redis => match result.unwrap_err() {
            error @ Error::LibraryLoad { .. } => {
                assert!(error.to_string().contains("server"), "{error}");
                assert_eq!(error.ran(), redis_script::Ran::No);
            }
            other => panic!("expected Error::LibraryLoad, got {other:?}"),
        },
    }
}

#[test]
fn wrongtype_names_the_line_and_keeps_the_code() {
    let server = server();
    let mut con = connection(&server);
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
    let server = server();
    let mut con = server
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

#[test]
fn an_error_raised_again_names_both_lines() {
    let server = server();
    let mut con = connection(&server);
    assert_eq!(ParseNumber { value: "12" }.invoke(&mut con).unwrap(), 12);
    // Redis says `user_script:11: user_script:4: not a number: x`: raised again at 11, from 4.
    let error = ParseNumber { value: "x" }.invoke(&mut con).unwrap_err();
    assert_script_error(
        error,
        "lua/errors/rethrow.lua",
        11,
        "  error(result)",
        "lua/errors/rethrow.lua:4: not a number: x",
    );
}

#[test]
fn a_script_the_server_cannot_compile_names_the_line() {
    let server = server();
    let mut con = connection(&server);
    // The analysis parses Lua 5.1's grammar; `break` outside a loop is a compile error only.
    let error = BreakOutsideLoop { limit: 1 }.invoke(&mut con).unwrap_err();
    let script_error = assert_script_error(
        error,
        "lua/errors/compile_error.lua",
        3,
        "if limit then break end",
        "Error compiling script (new function): lua/errors/compile_error.lua:3: no loop to \
         break near 'end'",
    );
    assert!(
        script_error
            .redis_error()
            .to_string()
            .contains("user_script:3: no loop to break"),
        "{}",
        script_error.redis_error()
    );
}

/// Answers every script command with `NOSCRIPT`, as no real server does to `EVAL` (and
/// accepts `SCRIPT LOAD`): a proxy that forwards `EVAL`, `EVALSHA` and `SCRIPT LOAD` to
/// different places can.
struct AlwaysNoScript {
    commands: Vec<String>,
}

impl AlwaysNoScript {
    fn new() -> Self {
        AlwaysNoScript {
            commands: Vec::new(),
        }
    }

    fn answer(&mut self, command: &[u8]) -> redis::RedisResult<redis::Value> {
        // `*N\r\n$L\r\nNAME\r\n...`: the command's name is its third line.
        let name = command
            .split(|&byte| byte == b'\n')
            .nth(2)
            .unwrap_or_default();
        let name = String::from_utf8_lossy(name).trim_end().to_owned();
        let reply: &[u8] = if name == "SCRIPT" {
            b"+loaded\r\n"
        } else {
            b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
        };
        self.commands.push(name);
        redis::parse_redis_value(reply)
    }

    /// Splits a pipeline's `*N\r\n$L\r\n...` bytes into its commands and answers each.
    fn answer_all(&mut self, mut packed: &[u8]) -> redis::RedisResult<Vec<redis::Value>> {
        let mut replies = Vec::new();
        while !packed.is_empty() {
            let start = packed;
            let line = |bytes: &mut &[u8]| -> usize {
                let end = bytes.iter().position(|&byte| byte == b'\n').unwrap();
                let number = std::str::from_utf8(&bytes[1..end - 1])
                    .unwrap()
                    .parse()
                    .unwrap();
                *bytes = &bytes[end + 1..];
                number
            };
            let arguments = line(&mut packed);
            for _ in 0..arguments {
                let length = line(&mut packed);
                packed = &packed[length + 2..];
            }
            replies.push(self.answer(&start[..start.len() - packed.len()])?);
        }
        Ok(replies)
    }

    /// One `EVALSHA` first, `EVAL` last and only once, and in between a bounded number of
    /// reloads (`SCRIPT LOAD` + `EVALSHA`) and retries.
    fn assert_bounded_fallback(&self) {
        let commands = &self.commands;
        assert_eq!(commands.first().map(String::as_str), Some("EVALSHA"));
        assert_eq!(
            commands.last().map(String::as_str),
            Some("EVAL"),
            "{commands:?}"
        );
        assert_eq!(commands.iter().filter(|c| *c == "EVAL").count(), 1);
        assert!(commands.len() <= 8, "{commands:?}");
        assert!(commands.iter().any(|c| c == "SCRIPT"), "{commands:?}");
    }
}

impl redis::ConnectionLike for AlwaysNoScript {
    fn req_packed_command(&mut self, command: &[u8]) -> redis::RedisResult<redis::Value> {
        self.answer(command)
    }

    fn req_packed_commands(
        &mut self,
        packed: &[u8],
        _: usize,
        _: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        self.answer_all(packed)
    }

    fn get_db(&self) -> i64 {
        0
    }

    fn check_connection(&mut self) -> bool {
        true
    }

    fn is_open(&self) -> bool {
        true
    }
}

impl redis::aio::ConnectionLike for AlwaysNoScript {
    fn req_packed_command<'a>(
        &'a mut self,
        command: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        let reply = self.answer(&command.get_packed_command());
        Box::pin(async move { reply })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        _: usize,
        _: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        let replies = self.answer_all(&pipeline.get_packed_pipeline());
        Box::pin(async move { replies })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[track_caller]
fn assert_script_missing(error: Error) {
    let rendered = error.to_string();
    let source = std::error::Error::source(&error).map(ToString::to_string);
    let Error::ScriptMissing {
        path,
        source: reply,
    } = &error
    else {
        panic!("expected Error::ScriptMissing, got {error:?}");
    };
    assert_eq!(*path, "lua/errors/arithmetic.lua");
    assert_eq!(
        reply.kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
    );
    assert_eq!(error.code(), Some("NOSCRIPT"));
    assert!(
        rendered.starts_with(
            "lua/errors/arithmetic.lua: the server answered NOSCRIPT even to EVAL with the full \
             source ("
        ),
        "{rendered}"
    );
    assert!(rendered.contains("No matching script"), "{rendered}");
    assert_eq!(
        source,
        Some(reply.to_string()),
        "source() is the server's reply"
    );
}

#[test]
fn noscript_even_after_eval_is_script_missing() {
    let mut connection = AlwaysNoScript::new();
    let script = AddToCounter {
        counter: "c",
        amount: 1,
    };
    assert_script_missing(script.invoke(&mut connection).unwrap_err());
    connection.assert_bounded_fallback();
}

#[tokio::test]
async fn noscript_even_after_eval_is_script_missing_async() {
    let mut connection = AlwaysNoScript::new();
    let script = AddToCounter {
        counter: "c",
        amount: 1,
    };
    assert_script_missing(script.invoke_async(&mut connection).await.unwrap_err());
    connection.assert_bounded_fallback();
}
