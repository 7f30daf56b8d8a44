//! Scripts against a real standalone `redis-server`, one throwaway server per test.
//!
//! Structs with several plain `#[key]`s are `standalone_only`: these tests are about the
//! standalone protocol; `cluster.rs` covers key templates and slots.

use std::time::{Duration, Instant};

use redis::Commands;
use redis_script::{Error, RedisScript, Script};
use throwaway_redis::RedisServer;

#[derive(RedisScript)]
#[redis_script(path = "lua/transfer.lua", returns = i64, standalone_only)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
    #[arg]
    amount: i64,
}

/// Every kind of single-argument field, echoed back as bytes.
#[derive(RedisScript)]
#[redis_script(path = "lua/echo.lua", returns = Vec<Vec<u8>>, standalone_only)]
struct EchoFieldTypes<'a> {
    #[key]
    borrowed: &'a str,
    #[key]
    owned: String,
    #[key]
    binary: &'a [u8],
    #[arg]
    signed: i64,
    #[arg]
    unsigned: u64,
    #[arg]
    float: f64,
    #[arg]
    flag: bool,
    #[arg]
    bytes: Vec<u8>,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/echo.lua", returns = Vec<String>, standalone_only)]
struct EchoVariadic<'a> {
    #[key]
    first: &'a str,
    #[key(variadic)]
    rest: Vec<String>,
    #[arg]
    head: i64,
    #[arg(variadic)]
    tail: &'a [i64],
}

// The tests delete a few keys at once; `unpack(KEYS)` would fail from 8,000 on.
#[derive(RedisScript)]
#[redis_script(
    path = "lua/delete_all.lua",
    returns = (i64, i64),
    standalone_only,
    allow(unbounded_unpack)
)]
struct DeleteAll<'a> {
    #[key(variadic)]
    keys: &'a [&'a str],
    #[arg(variadic)]
    extra: Vec<i64>,
}

/// `KEYS` and `ARGV` as the script received them.
type KeysAndArgs = (Vec<String>, Vec<String>);

#[derive(RedisScript)]
#[redis_script(path = "lua/echo_keys_and_args.lua", returns = KeysAndArgs, standalone_only)]
struct EchoVecs {
    #[key]
    first: String,
    #[key(variadic)]
    rest: Vec<String>,
    #[arg(variadic)]
    values: Vec<i64>,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/echo_keys_and_args.lua", returns = KeysAndArgs, standalone_only)]
struct EchoSlices<'a> {
    #[key(variadic)]
    keys: &'a [&'a str],
    #[arg]
    head: &'a str,
    #[arg(variadic)]
    values: &'a [&'a [u8]],
}

#[derive(RedisScript)]
#[redis_script(path = "lua/echo_keys_and_args.lua", returns = KeysAndArgs, standalone_only)]
struct EchoArrays {
    #[key(variadic)]
    keys: [&'static str; 3],
    #[arg(variadic)]
    values: [u8; 2],
}

/// Every key starts with the literal tag `{archive}`: no value can move it, so the derive
/// turns the runtime slot guard off.
#[derive(RedisScript)]
#[redis_script(path = "lua/echo_keys_and_args.lua", returns = KeysAndArgs)]
struct EchoArchive<'a> {
    #[key("{{archive}}:{}")]
    from: &'a str,
    #[key("{{archive}}:done:{}", variadic)]
    done: &'a [&'a str],
}

/// The tag `{acct}` comes after a value, and a value with braces comes first: the guard stays.
#[derive(RedisScript)]
#[redis_script(path = "lua/echo_keys_and_args.lua", returns = KeysAndArgs)]
struct EchoAccounts<'a> {
    #[key("{}:{{acct}}")]
    from: &'a str,
    #[key("{}:{{acct}}")]
    to: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/ping.lua", returns = String)]
struct Ping;

#[derive(RedisScript)]
#[redis_script(path = "lua/read_only_get.lua", returns = Option<String>)]
struct ReadOnlyGet<'a> {
    #[key]
    key: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/count_calls.lua", returns = i64, standalone_only)]
struct CountCall<'a> {
    #[key]
    counter: &'a str,
    #[key]
    log: &'a str,
    #[arg]
    id: u64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/failing.lua", returns = i64)]
struct Failing<'a> {
    #[key]
    key: &'a str,
    #[arg]
    mode: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/spin.lua", returns = i64)]
struct Spin {
    #[arg]
    iterations: u64,
}

// One script replies every shape, so that each `returns` type meets the ones it cannot hold
// at run time (a conversion error), which the derive would otherwise refuse.
macro_rules! reply_shape {
    ($name:ident, $($returns:ty)?) => {
        #[derive(RedisScript)]
        #[redis_script(
            path = "lua/reply_shapes.lua" $(, returns = $returns)?,
            allow(reply_type_mismatch)
        )]
        struct $name<'a> {
            #[arg]
            shape: &'a str,
        }
    };
}
reply_shape!(ReplyInteger, i64);
reply_shape!(ReplyString, String);
reply_shape!(ReplyOptional, Option<String>);
reply_shape!(ReplyBool, bool);
reply_shape!(ReplyList, Vec<String>);
reply_shape!(ReplyPair, (i64, String));
reply_shape!(ReplyValue,);

fn server() -> RedisServer {
    RedisServer::start().expect("the tests need redis-server >= 7 (see README)")
}

fn connection(server: &RedisServer) -> redis::Connection {
    server
        .connection()
        .expect("connect to the throwaway server")
}

/// `calls` of one command in `INFO commandstats` (0 when it never ran).
fn command_calls(connection: &mut redis::Connection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(connection)
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().expect("calls is a number"))
}

#[test]
fn transfer_moves_what_is_there_and_no_more() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("{acct}:a", 10).unwrap();

    let moved = Transfer {
        from: "{acct}:a",
        to: "{acct}:b",
        amount: 4,
    }
    .invoke(&mut con);
    assert_eq!(moved.unwrap(), 4);
    let moved = Transfer {
        from: "{acct}:a",
        to: "{acct}:b",
        amount: 100,
    }
    .invoke(&mut con);
    assert_eq!(moved.unwrap(), 6);

    let balances: (i64, i64) = con.mget(&["{acct}:a", "{acct}:b"]).unwrap();
    assert_eq!(balances, (0, 10));
}

#[test]
fn every_field_type_arrives_as_one_entry_in_declaration_order() {
    let server = server();
    let mut con = connection(&server);
    let echoed = EchoFieldTypes {
        borrowed: "k:borrowed",
        owned: "k:owned".to_owned(),
        binary: b"k:\xff\x00bin",
        signed: -42,
        unsigned: u64::MAX,
        float: 1.5,
        flag: true,
        bytes: vec![0, 1, 0xfe],
    }
    .invoke(&mut con)
    .unwrap();
    let expected: Vec<Vec<u8>> = vec![
        b"k:borrowed".to_vec(),
        b"k:owned".to_vec(),
        b"k:\xff\x00bin".to_vec(),
        b"-42".to_vec(),
        u64::MAX.to_string().into_bytes(),
        b"1.5".to_vec(),
        b"1".to_vec(),
        vec![0, 1, 0xfe],
    ];
    assert_eq!(echoed, expected);
}

#[test]
fn variadic_fields_spread_into_keys_and_args() {
    let server = server();
    let mut con = connection(&server);
    let echoed = EchoVariadic {
        first: "k1",
        rest: vec!["k2".into(), "k3".into()],
        head: 10,
        tail: &[20, 30, 40],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(echoed, ["k1", "k2", "k3", "10", "20", "30", "40"]);

    let only_fixed = EchoVariadic {
        first: "k1",
        rest: vec![],
        head: 1,
        tail: &[],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(only_fixed, ["k1", "1"]);

    let _: () = con.mset(&[("d1", 1), ("d2", 2), ("d3", 3)]).unwrap();
    let deleted = DeleteAll {
        keys: &["d1", "d2", "missing"],
        extra: vec![5, 6],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(deleted, (2, 2));
    let left: Option<i64> = con.get("d3").unwrap();
    assert_eq!(left, Some(3));
}

/// `numkeys` is the number of entries, each entry one key or one argument: nothing of a
/// variadic key list spills into `ARGV`, nothing of `ARGV` into `KEYS`.
#[test]
fn variadic_lists_fill_exactly_their_entries_of_keys_and_argv() {
    let server = server();
    let mut con = connection(&server);
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|&item| item.to_owned())
            .collect::<Vec<_>>()
    };

    let echoed = EchoVecs {
        first: "k0".into(),
        rest: strings(&["k1", "k2"]),
        values: vec![-1, 0, 7],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(
        echoed,
        (strings(&["k0", "k1", "k2"]), strings(&["-1", "0", "7"]))
    );
    let echoed = EchoVecs {
        first: "k0".into(),
        rest: vec![],
        values: vec![],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(echoed, (strings(&["k0"]), vec![]));

    let echoed = EchoSlices {
        keys: &["a", "b"],
        head: "h",
        values: &[b"x", b"", b"yz"],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(
        echoed,
        (strings(&["a", "b"]), strings(&["h", "x", "", "yz"]))
    );
    let echoed = EchoSlices {
        keys: &["only"],
        head: "h",
        values: &[],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(echoed, (strings(&["only"]), strings(&["h"])));

    // A `u8` entry is one number, as any integer is; `[u8; N]` is N entries, not one blob.
    let echoed = EchoArrays {
        keys: ["x", "y", "z"],
        values: [7, 255],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(echoed, (strings(&["x", "y", "z"]), strings(&["7", "255"])));
}

#[test]
fn the_slot_guard_runs_only_where_a_value_can_move_a_tag() {
    const {
        assert!(
            !EchoArchive::SLOT_GUARD,
            "literal tags first: nothing to check"
        );
        assert!(
            EchoAccounts::SLOT_GUARD,
            "a value before the tag can move it"
        );
    }
    let server = server();
    let mut con = connection(&server);

    // Braces in the values come after the tag, so they change nothing.
    let echoed = EchoArchive {
        from: "{a}",
        done: &["x}y", "{b}"],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(
        echoed.0,
        ["{archive}:{a}", "{archive}:done:x}y", "{archive}:done:{b}"]
    );

    let echoed = EchoAccounts {
        from: "alice",
        to: "bob",
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(echoed.0, ["alice:{acct}", "bob:{acct}"]);
    // `{a}` comes first in its key, so Redis hashes `a` there and `acct` in the other key.
    let sent = command_calls(&mut con, "evalsha") + command_calls(&mut con, "eval");
    let refused = EchoAccounts {
        from: "{a}",
        to: "bob",
    }
    .invoke(&mut con)
    .unwrap_err();
    let Error::CrossSlot {
        script,
        keys_and_slots,
    } = &refused
    else {
        panic!("expected Error::CrossSlot, got {refused:?}");
    };
    assert_eq!(*script, "EchoAccounts");
    assert_eq!(
        *keys_and_slots,
        [
            (
                b"{a}:{acct}".to_vec(),
                redis_script_analysis::hash_slot(b"a")
            ),
            (
                b"bob:{acct}".to_vec(),
                redis_script_analysis::hash_slot(b"acct")
            ),
        ]
    );
    assert_eq!(
        command_calls(&mut con, "evalsha") + command_calls(&mut con, "eval"),
        sent,
        "the refused call sent nothing"
    );
}

#[test]
fn each_return_type_converts() {
    let server = server();
    let mut con = connection(&server);
    assert_eq!(
        ReplyInteger { shape: "integer" }.invoke(&mut con).unwrap(),
        42
    );
    assert_eq!(
        ReplyString { shape: "string" }.invoke(&mut con).unwrap(),
        "forty-two"
    );
    assert_eq!(
        ReplyString { shape: "status" }.invoke(&mut con).unwrap(),
        "FINE"
    );
    assert_eq!(
        ReplyOptional { shape: "nil" }.invoke(&mut con).unwrap(),
        None
    );
    assert_eq!(
        ReplyOptional { shape: "string" }
            .invoke(&mut con)
            .unwrap()
            .as_deref(),
        Some("forty-two")
    );
    assert!(ReplyBool { shape: "true" }.invoke(&mut con).unwrap());
    assert!(!ReplyBool { shape: "nil" }.invoke(&mut con).unwrap());
    assert_eq!(
        ReplyList { shape: "list" }.invoke(&mut con).unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(
        ReplyPair { shape: "pair" }.invoke(&mut con).unwrap(),
        (7, "seven".to_owned())
    );
    assert_eq!(
        ReplyValue { shape: "integer" }.invoke(&mut con).unwrap(),
        redis::Value::Int(42)
    );
    assert_eq!(Ping.invoke(&mut con).unwrap(), "pong");
}

#[test]
fn a_reply_of_the_wrong_type_is_a_conversion_error() {
    let server = server();
    let mut con = connection(&server);
    let error = ReplyInteger { shape: "list" }.invoke(&mut con).unwrap_err();
    match &error {
        Error::Conversion { path, expected, .. } => {
            assert_eq!((*path, *expected), ("lua/reply_shapes.lua", "i64"));
        }
        other => panic!("expected Conversion, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("lua/reply_shapes.lua: the script's reply does not convert into `i64`")
    );
}

#[test]
fn works_through_dyn_connection_like_and_generic_code() {
    fn twice<S: Script>(
        script: &S,
        con: &mut dyn redis::ConnectionLike,
    ) -> Result<[S::Output; 2], Error> {
        Ok([script.invoke(con)?, script.invoke(con)?])
    }
    let server = server();
    let mut con = connection(&server);
    let counted = twice(
        &CountCall {
            counter: "c",
            log: "l",
            id: 1,
        },
        &mut con,
    )
    .unwrap();
    assert_eq!(counted, [1, 2]);
}

#[test]
fn script_constants_describe_the_script() {
    assert_eq!(Transfer::NAME, "Transfer");
    assert_eq!(Transfer::PATH, "lua/transfer.lua");
    assert_eq!(Transfer::SOURCE, include_str!("../lua/transfer.lua"));
    assert_eq!(Transfer::KEY_FIELDS, ["from", "to"]);
    assert_eq!(Transfer::ARG_FIELDS, ["amount"]);
    assert_eq!(
        (Transfer::FLAGS.no_writes, ReadOnlyGet::FLAGS.no_writes),
        (false, true)
    );
    assert_eq!(EchoVariadic::KEY_FIELDS, ["first", "rest"]);
    assert_eq!(Ping::KEY_FIELDS, [] as [&str; 0]);
    assert_eq!(Ping::SHA1.len(), 40);
    assert!(
        Ping::SHA1
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

/// `SCRIPT LOAD`'s answer for `source`, or its error (a script the server cannot compile).
fn script_load(con: &mut redis::Connection, source: &[u8]) -> redis::RedisResult<String> {
    redis::cmd("SCRIPT").arg("LOAD").arg(source).query(con)
}

/// Every `.lua` file under `dir`, recursively.
fn lua_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            lua_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "lua") {
            found.push(path);
        }
    }
}

/// The derive's SHA1 is Redis's for every script this crate has (that the server compiles;
/// the compile-fail cases' scripts are partly broken on purpose), for every derived script
/// registered in this binary, and for generated sources with the bytes that an encoding
/// mistake would change: CRLF, non-ASCII, shebangs, control characters, nothing at all.
#[test]
fn the_compile_time_sha1_is_the_one_redis_computes() {
    let server = server();
    let mut con = connection(&server);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));

    let mut files = Vec::new();
    for dir in ["lua", "corpus", "ui"] {
        lua_files(&root.join(dir), &mut files);
    }
    let mut checked = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let shown = file.strip_prefix(root).unwrap().display();
        let in_ui_cases = file.starts_with(root.join("ui/lua"));
        // The derive refuses files that are not UTF-8, so they have no SHA1 of its own.
        let Ok(source) = std::str::from_utf8(&bytes) else {
            assert!(in_ui_cases, "{shown} is not UTF-8");
            continue;
        };
        // Function libraries are loaded with FUNCTION LOAD and called by name: no SHA1.
        if source.starts_with("#!lua name=") {
            continue;
        }
        match script_load(&mut con, &bytes) {
            Ok(loaded) => {
                assert_eq!(
                    redis_script_analysis::script_sha1(source),
                    loaded,
                    "{shown}"
                );
                checked += 1;
            }
            // Syntax errors and unknown shebang flags, on purpose; and the one script the
            // server refuses to compile, for the error test.
            Err(error) => assert!(
                in_ui_cases || file.ends_with("lua/errors/compile_error.lua"),
                "{shown}: {error}"
            ),
        }
    }
    assert!(
        checked >= 100,
        "only {checked} of {} files loaded",
        files.len()
    );

    let registered = redis_script::scripts();
    assert!(registered.len() >= 20, "{}", registered.len());
    for script in registered {
        let loaded = script_load(&mut con, script.source.as_bytes()).unwrap();
        assert_eq!(script.sha1, loaded, "{} ({})", script.name, script.path);
    }
    assert_eq!(
        Transfer::SHA1,
        script_load(&mut con, Transfer::SOURCE.as_bytes()).unwrap()
    );

    let mut sources: Vec<String> = [
        "",
        "return 1",
        "return 1\n",
        "local x = 1\r\nreturn x\r\n",
        "local x = 1\rreturn x",
        "-- h\u{e9}llo \u{2713} \u{65e5}\u{672c} \u{1f389}\nreturn '\u{fc}n\u{ef}c\u{f6}d\u{e9}'",
        "-- \u{feff}\nreturn 1",
        "#!lua\nreturn 1",
        "#!lua flags=no-writes\r\nreturn redis.call('GET', KEYS[1])",
        "#!lua flags=no-writes,allow-stale\nreturn 1",
        "return '\u{0}\u{1}\u{7}\u{1b}[0m\u{7f}\u{80}\u{7ff}\u{ffff}\u{10ffff}'",
        "\t\treturn\t1\t\n\n\n",
    ]
    .map(str::to_owned)
    .to_vec();
    // Long comments hold any text but `]`: random characters from every UTF-8 length.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pools: [&[char]; 4] = [
        &[
            'a', 'Z', '0', ' ', '\t', '\r', '\n', '\u{0}', '\u{1f}', '"', '\'', '[', '=',
        ],
        &['\u{e9}', '\u{3a9}', '\u{5d0}', '\u{7ff}'],
        &['\u{800}', '\u{4e2d}', '\u{fffd}', '\u{feff}'],
        &['\u{10000}', '\u{1f600}', '\u{10ffff}'],
    ];
    for _ in 0..200 {
        let length = next() % 64;
        let comment: String = (0..length)
            .map(|_| {
                let pool = pools[(next() % 4) as usize];
                pool[(next() % pool.len() as u64) as usize]
            })
            .collect();
        let ending = ["\n", "\r\n", ""][(next() % 3) as usize];
        sources.push(format!(
            "--[==[{comment}]==]{ending}return {}",
            next() % 1000
        ));
    }
    for source in &sources {
        let loaded = script_load(&mut con, source.as_bytes()).unwrap();
        assert_eq!(
            redis_script_analysis::script_sha1(source),
            loaded,
            "{source:?}"
        );
    }
}

#[test]
fn script_flush_between_calls_costs_one_load_per_flush_and_loses_nothing() {
    let server = server();
    let mut con = connection(&server);
    let mut admin = connection(&server);
    const FLUSHES: u64 = 5;
    const CALLS_PER_FLUSH: u64 = 3;
    let mut id = 0;
    for _ in 0..FLUSHES {
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut admin).unwrap();
        for _ in 0..CALLS_PER_FLUSH {
            id += 1;
            let count = CountCall {
                counter: "count",
                log: "log",
                id,
            }
            .invoke(&mut con)
            .unwrap();
            assert_eq!(count, id as i64);
        }
    }
    // Per flush: EVALSHA answered NOSCRIPT, then SCRIPT LOAD + EVALSHA in one round trip. (A
    // load of the same script by another test of this process, on its own server, can make a
    // call guess that it is back and try EVALSHA once more first: at most one per flush.)
    assert_eq!(
        command_calls(&mut con, "script|load"),
        FLUSHES,
        "one SCRIPT LOAD per flush"
    );
    assert_eq!(command_calls(&mut con, "eval"), 0);
    let evalshas = command_calls(&mut con, "evalsha");
    assert!(
        (FLUSHES * (CALLS_PER_FLUSH + 1)..=FLUSHES * (CALLS_PER_FLUSH + 2)).contains(&evalshas),
        "{evalshas}"
    );
    let log: Vec<u64> = con.lrange("log", 0, -1).unwrap();
    assert_eq!(
        log,
        (1..=id).collect::<Vec<_>>(),
        "each call ran once, in order"
    );
}

#[tokio::test]
async fn async_connections_invoke_and_recover_from_flush() {
    let server = server();
    let client = server.client();
    let mut multiplexed = client.get_multiplexed_async_connection().await.unwrap();
    let mut manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let mut admin = connection(&server);
    let _: () = admin.set("{acct}:a", 10).unwrap();

    let moved = Transfer {
        from: "{acct}:a",
        to: "{acct}:b",
        amount: 3,
    }
    .invoke_async(&mut multiplexed)
    .await
    .unwrap();
    assert_eq!(moved, 3);
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut admin).unwrap();
    let moved = Transfer {
        from: "{acct}:a",
        to: "{acct}:b",
        amount: 3,
    }
    .invoke_async(&mut manager)
    .await
    .unwrap();
    assert_eq!(moved, 3);
    let moved = Script::invoke_async(
        &Transfer {
            from: "{acct}:a",
            to: "{acct}:b",
            amount: 10,
        },
        &mut multiplexed,
    )
    .await
    .unwrap();
    assert_eq!(moved, 4);

    assert_eq!(
        command_calls(&mut admin, "script|load"),
        2,
        "the first call and the one after the flush"
    );
    assert_eq!(command_calls(&mut admin, "eval"), 0);
    let balances: (i64, i64) = admin.mget(&["{acct}:a", "{acct}:b"]).unwrap();
    assert_eq!(balances, (0, 10));
}

#[tokio::test]
async fn async_invocations_run_concurrently_without_loss() {
    let server = server();
    let client = server.client();
    let connection = client.get_multiplexed_async_connection().await.unwrap();
    let tasks: Vec<_> = (1..=200u64)
        .map(|id| {
            let mut connection = connection.clone();
            // The future must be Send to be spawned: it holds only the command and connection.
            tokio::spawn(async move {
                CountCall {
                    counter: "count",
                    log: "log",
                    id,
                }
                .invoke_async(&mut connection)
                .await
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap().unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=200).collect::<Vec<i64>>());
}

/// The two tests that count `ReadOnlyGet`'s commands, one at a time: reloads after `NOSCRIPT`
/// are shared by the whole process (single-flight, by SHA1), so one test's call can wait for the
/// other's load on its own server, and then count one more `EVALSHA_RO`.
static READ_ONLY_COUNTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
fn no_writes_scripts_go_out_as_evalsha_ro() {
    let _one_at_a_time = READ_ONLY_COUNTS.blocking_lock();
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("k", "v").unwrap();
    assert_eq!(
        ReadOnlyGet { key: "k" }
            .invoke(&mut con)
            .unwrap()
            .as_deref(),
        Some("v")
    );
    assert_eq!(
        ReadOnlyGet { key: "k" }
            .invoke(&mut con)
            .unwrap()
            .as_deref(),
        Some("v")
    );
    // NOSCRIPT, then SCRIPT LOAD + EVALSHA_RO: the reload's invocation is read-only too.
    assert_eq!(command_calls(&mut con, "evalsha_ro"), 3);
    assert_eq!(command_calls(&mut con, "script|load"), 1);
    assert_eq!(command_calls(&mut con, "eval_ro"), 0);
    assert_eq!(command_calls(&mut con, "evalsha"), 0);
    assert_eq!(command_calls(&mut con, "eval"), 0);
}

#[tokio::test]
async fn no_writes_scripts_go_out_as_evalsha_ro_async() {
    let _one_at_a_time = READ_ONLY_COUNTS.lock().await;
    let server = server();
    let mut admin = connection(&server);
    let _: () = admin.set("k", "v").unwrap();
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for _ in 0..2 {
        let value = ReadOnlyGet { key: "k" }.invoke_async(&mut con).await;
        assert_eq!(value.unwrap().as_deref(), Some("v"));
    }
    assert_eq!(command_calls(&mut admin, "evalsha_ro"), 3);
    assert_eq!(
        command_calls(&mut admin, "script|load"),
        1,
        "the first call's reload"
    );

    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut admin).unwrap();
    let value = ReadOnlyGet { key: "k" }.invoke_async(&mut con).await;
    assert_eq!(value.unwrap().as_deref(), Some("v"));
    assert_eq!(command_calls(&mut admin, "evalsha_ro"), 5);
    assert_eq!(
        command_calls(&mut admin, "script|load"),
        2,
        "the reload after SCRIPT FLUSH"
    );
    assert_eq!(command_calls(&mut admin, "eval_ro"), 0);
    assert_eq!(command_calls(&mut admin, "evalsha"), 0);
    assert_eq!(command_calls(&mut admin, "eval"), 0);
}

#[test]
fn lua_runtime_errors_name_the_file_and_line() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("text", "not a number").unwrap();

    let cases = [
        (
            "arithmetic",
            4,
            "attempt to perform arithmetic",
            "return redis.call('GET', KEYS[1]) + 1",
        ),
        ("error", 6, "custom failure", "error('custom failure')"),
        (
            "wrongtype",
            8,
            "value is not an integer",
            "return redis.call('INCR', KEYS[1])",
        ),
    ];
    for (mode, line, message, source_line) in cases {
        let error = Failing { key: "text", mode }.invoke(&mut con).unwrap_err();
        let Error::Script(script_error) = &error else {
            panic!("{mode}: expected Error::Script, got {error:?}");
        };
        assert_eq!(script_error.path(), "lua/failing.lua", "{mode}");
        assert_eq!(script_error.line(), line, "{mode}");
        assert_eq!(
            script_error.source_line().map(str::trim),
            Some(source_line),
            "{mode}"
        );
        assert!(
            script_error.message().contains(message),
            "{mode}: {}",
            script_error.message()
        );
        assert!(
            !script_error.message().contains("user_script"),
            "{mode}: {}",
            script_error.message()
        );
        let shown = error.to_string();
        assert!(
            shown.starts_with(&format!("lua/failing.lua:{line}: ")),
            "{shown}"
        );
        assert!(shown.contains(source_line), "{shown}");
        let source = std::error::Error::source(&error).expect("keeps the redis error");
        assert!(source.to_string().contains("user_script"), "{source}");
    }
}

#[test]
fn wrongtype_inside_the_script_keeps_its_code() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.rpush("list", "x").unwrap();
    let error = Failing {
        key: "list",
        mode: "wrongtype",
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_eq!(error.code(), Some("WRONGTYPE"));
    let Error::Script(script_error) = &error else {
        panic!("{error:?}")
    };
    assert!(
        script_error
            .message()
            .starts_with("WRONGTYPE Operation against a key"),
        "{}",
        script_error.message()
    );
    assert_eq!(script_error.line(), 8);
}

#[test]
fn an_error_reply_of_the_script_keeps_its_code() {
    let server = server();
    let mut con = connection(&server);
    let error = ReplyValue { shape: "unknown" }
        .invoke(&mut con)
        .unwrap_err();
    assert_eq!(error.code(), Some("BADSHAPE"));
    assert!(matches!(error, Error::Redis(_)), "{error:?}");
}

#[test]
fn a_busy_server_is_a_distinct_error() {
    let server = RedisServer::start_with(&[("busy-reply-threshold", "50")]).unwrap();
    let mut runner = connection(&server);
    let spinning = std::thread::spawn(move || {
        Spin {
            iterations: 20_000_000_000,
        }
        .invoke(&mut runner)
    });

    let mut con = connection(&server);
    let deadline = Instant::now() + Duration::from_secs(10);
    let busy = loop {
        match Ping.invoke(&mut con) {
            Err(error @ Error::Busy { .. }) => break error,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => panic!("expected BUSY while the other script spins, got {other:?}"),
        }
    };
    assert_eq!(busy.code(), Some("BUSY"));
    assert!(
        busy.to_string()
            .starts_with("lua/ping.lua: the server is busy"),
        "{busy}"
    );

    let killed: redis::RedisResult<()> = redis::cmd("SCRIPT").arg("KILL").query(&mut con);
    assert!(killed.is_ok(), "{killed:?}");
    let spun = spinning.join().unwrap();
    let Err(Error::Script(killed)) = &spun else {
        panic!("expected the killed script to fail with Error::Script, got {spun:?}");
    };
    assert_eq!(killed.path(), "lua/spin.lua");
    // Killed in the loop: its condition (line 4) or its body (line 5).
    let loop_lines = [(4, "while i < n do"), (5, "i = i + 1")];
    assert!(
        loop_lines.contains(&(
            killed.line(),
            killed.source_line().unwrap_or_default().trim()
        )),
        "{killed}"
    );
    // Redis 7.0 ends the sentence with three dots, Valkey with one.
    let expected = match throwaway_redis::server_version()
        .expect("the server binary")
        .kind
    {
        throwaway_redis::ServerKind::Redis => "Script killed by user with SCRIPT KILL...",
        throwaway_redis::ServerKind::Valkey => "Script killed by user with SCRIPT KILL.",
    };
    assert_eq!(killed.message(), expected);
    assert_eq!(killed.redis_error().code(), Some("ERR"));
    assert_eq!(
        Ping.invoke(&mut con).unwrap(),
        "pong",
        "the server serves scripts again"
    );
}

/// The README's two structs (as rustfmt lays them out), so that its examples keep compiling and
/// doing what it says.
mod readme {
    use redis_script::RedisScript;

    /// Moves up to `amount` units between two accounts of a bank; returns how many moved.
    #[derive(RedisScript)]
    #[redis_script(path = "lua/transfer.lua", returns = i64)]
    pub struct Transfer<'a> {
        pub bank: &'a str, // fills the key templates, not sent
        #[key("{{bank:{bank}}}:acct:{}")]
        pub from: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<from>"
        #[key("{{bank:{bank}}}:acct:{}")]
        pub to: &'a str, // KEYS[2], same hash tag: same slot
        #[arg]
        pub amount: i64, // ARGV[1]
    }

    #[derive(RedisScript)]
    #[redis_script(path = "lua/cart_total.lua", returns = i64)]
    pub struct CartTotal<'a> {
        pub user: u64,
        #[key("{{cart:{user}}}:item:{}", variadic)]
        pub items: Vec<&'a str>, // "{cart:7}:item:<each>"
    }
}

#[test]
fn the_readme_examples_run() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("{bank:b1}:acct:alice", 3).unwrap();
    let transfer = readme::Transfer {
        bank: "b1",
        from: "alice",
        to: "bob",
        amount: 5,
    };
    assert_eq!(transfer.invoke(&mut con).unwrap(), 3);
    let balances: (i64, i64) = redis::cmd("MGET")
        .arg("{bank:b1}:acct:alice")
        .arg("{bank:b1}:acct:bob")
        .query(&mut con)
        .unwrap();
    assert_eq!(balances, (0, 3));

    let _: () = con.set("{cart:7}:item:apple", 2).unwrap();
    let _: () = con.set("{cart:7}:item:pear", 5).unwrap();
    let total = readme::CartTotal {
        user: 7,
        items: vec!["apple", "pear", "plum"],
    };
    assert_eq!(total.invoke(&mut con).unwrap(), 7);
}
