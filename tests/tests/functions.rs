//! Redis 7 functions (`FUNCTION LOAD`, `FCALL`, `FCALL_RO`) against real servers: every entry
//! point, the library loaded on first call and each call run once, `FUNCTION FLUSH` while calls
//! are in flight, Lua errors in the library file, stale and conflicting libraries, replicas
//! serving `FCALL_RO`, a 3 + 3 cluster and a failover.
//!
//! Every struct is `#[derive(RedisFunction)]`: the libraries in `tests/lua/functions/` are
//! checked at compile time as users' are.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use redis::Commands;
use redis_script::batch::{ClusterBatch, ClusterNodes};
use redis_script::libraries::{self, LibraryPolicy, LibraryState};
use redis_script::{
    Error, Function, RedisFunction, RedisScript, ScriptPipeline, ScriptTransaction,
    cluster_functions,
};
use redis_script_analysis::hash_slot;
use throwaway_redis::{ClusterNode, RedisCluster, RedisServer};

/// Moves `amount` from one account to another; returns the new balance of `to`.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_transfer", returns = i64, allow(unproven_key_slots))]
struct Transfer {
    #[key]
    from: String,
    #[key]
    to: String,
    #[arg]
    amount: String,
}

/// Appends `id` to `log` and increments `counter`: a run leaves exactly one trace.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_count_call", returns = i64, allow(unproven_key_slots))]
struct CountCall {
    #[key]
    counter: String,
    #[key]
    log: String,
    #[arg]
    id: u64,
}

/// A `no-writes` function: sent as `FCALL_RO`.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_balance", returns = i64)]
struct Balance {
    #[key]
    account: String,
}

/// No keys, writes allowed: primaries only.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_role", returns = String)]
struct Role;

/// `fn_role`, whose text reply does not convert into a number.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_role", returns = i64)]
struct RoleAsNumber;

/// Keeps the server busy for `milliseconds`.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/bank.lua", function = "fn_spin", returns = String)]
struct Spin {
    #[arg]
    milliseconds: u64,
}

const VERSIONED: &str = include_str!("../lua/functions/versioned.lua");
/// Version 1 of `lua/functions/versioned.lua`, as an older deploy loaded it.
const VERSION_1: &str = "#!lua name=fn_versioned\n\
                         redis.register_function('fn_version', function(keys, args) return 1 end)\n";

#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/versioned.lua", function = "fn_version", returns = i64)]
struct Version;

/// A function version 1 of the library lacks.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/versioned.lua", function = "fn_version_added", returns = String)]
struct VersionAdded;

/// Two registered libraries named `fn_conflicted`, with different code.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/conflict_a.lua", function = "fn_conflict_a", returns = String)]
#[allow(dead_code)] // only registered: its library is what the test is about
struct ConflictA;

#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/conflict_b.lua", function = "fn_conflict_b", returns = String)]
#[allow(dead_code)] // only registered: its library is what the test is about
struct ConflictB;

/// Registers `fn_role`, which `fn_bank` registers too: refused where `fn_bank` is loaded.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/taken_name.lua", function = "fn_role", returns = String)]
struct TakenName;

/// A library assembled from two files: `lua/functions/assembled.lua` includes
/// `includes/checks.lua`.

#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/assembled.lua", function = "fn_checked_echo", returns = String)]
struct CheckedEcho {
    #[arg]
    value: String,
}

/// A script next to the functions in pipelines: appends `entry` to `list`.
#[derive(RedisScript)]
#[redis_script(path = "lua/append_id.lua", returns = i64)]
struct AppendEntry {
    #[key]
    list: String,
    #[arg]
    entry: String,
}

fn server() -> RedisServer {
    RedisServer::start().expect("the tests need redis-server >= 7 (see README)")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn count_call(tag: &str, id: u64) -> CountCall {
    CountCall {
        counter: format!("{{{tag}}}:count"),
        log: format!("{{{tag}}}:log"),
        id,
    }
}

fn transfer(bank: &str, from: &str, to: &str, amount: &str) -> Transfer {
    Transfer {
        from: format!("{{{bank}}}:{from}"),
        to: format!("{{{bank}}}:{to}"),
        amount: amount.into(),
    }
}

/// `cmdstat_<command>` of `INFO commandstats`: (calls, failed_calls, rejected_calls).
fn command_stats(connection: &mut redis::Connection, command: &str) -> (u64, u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(connection)
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{command}:");
    let Some(fields) = info.lines().find_map(|line| line.strip_prefix(&prefix)) else {
        return (0, 0, 0);
    };
    let field = |name: &str| -> u64 {
        fields
            .split(',')
            .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            .map(|value| value.trim().parse().expect("a count"))
            .unwrap_or(0)
    };
    (
        field("calls"),
        field("failed_calls"),
        field("rejected_calls"),
    )
}

/// The names of the libraries the server has.
fn loaded_libraries(connection: &mut redis::Connection) -> Vec<String> {
    let listed: Vec<BTreeMap<String, redis::Value>> = redis::cmd("FUNCTION")
        .arg("LIST")
        .query(connection)
        .expect("FUNCTION LIST");
    let mut names: Vec<String> = listed
        .iter()
        .map(|library| {
            redis::from_redis_value(library["library_name"].clone()).expect("a library name")
        })
        .collect();
    names.sort();
    names
}

fn function_flush(connection: &mut redis::Connection) {
    redis::cmd("FUNCTION")
        .arg("FLUSH")
        .exec(connection)
        .expect("FUNCTION FLUSH");
}

/// The counter must be `expected.len()` and the log hold each id of `expected` exactly once.
fn assert_counted_once(connection: &mut redis::Connection, tag: &str, expected: &[u64]) {
    let count: u64 = connection.get(format!("{{{tag}}}:count")).expect("GET");
    let mut log: Vec<u64> = connection
        .lrange(format!("{{{tag}}}:log"), 0, -1)
        .expect("LRANGE");
    log.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(log.len(), expected.len(), "{tag}: entries in the log");
    assert_eq!(log, expected, "{tag}: every call ran exactly once");
    assert_eq!(count, expected.len() as u64, "{tag}: the counter");
}

#[test]
fn first_sync_call_loads_the_library_and_runs_once() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    assert!(loaded_libraries(&mut connection).is_empty());
    let missing = libraries::missing_libraries(&mut connection).expect("missing_libraries");
    assert!(missing.iter().any(|library| library.name == "fn_bank"));

    assert_eq!(
        count_call("sync", 1)
            .invoke(&mut connection)
            .expect("first"),
        1
    );
    assert_eq!(loaded_libraries(&mut connection), ["fn_bank"]);
    // The first FCALL found nothing and ran nothing; the second ran in the transaction with
    // the load.
    assert_eq!(command_stats(&mut connection, "fcall"), (2, 1, 0));
    assert_eq!(command_stats(&mut connection, "function|load").0, 1);
    assert_eq!(command_stats(&mut connection, "exec").0, 1);
    for id in 2..=5 {
        let count = count_call("sync", id)
            .invoke(&mut connection)
            .expect("call");
        assert_eq!(count, id as i64);
    }
    assert_eq!(command_stats(&mut connection, "function|load").0, 1);
    assert_counted_once(&mut connection, "sync", &[1, 2, 3, 4, 5]);

    // The trait's method, the command and the other functions of the library.
    assert_eq!(
        Function::invoke(&transfer("b", "alice", "bob", "7"), &mut connection).expect("transfer"),
        7
    );
    assert_eq!(
        Balance {
            account: "{b}:alice".into()
        }
        .invoke(&mut connection)
        .expect("balance"),
        -7
    );
    assert_eq!(command_stats(&mut connection, "fcall_ro").0, 1);
    assert_eq!(Role {}.invoke(&mut connection).expect("role"), "master");
    let command = Balance {
        account: "x".into(),
    }
    .fcall_command();
    let args: Vec<Vec<u8>> = command
        .args_iter()
        .map(|arg| match arg {
            redis::Arg::Simple(bytes) => bytes.to_vec(),
            _ => panic!("only plain arguments"),
        })
        .collect();
    assert_eq!(args, [&b"FCALL_RO"[..], b"fn_balance", b"1", b"x"]);

    // Flushed by someone else: loaded again by the next call, which runs once.
    function_flush(&mut connection);
    assert_eq!(
        count_call("sync", 6)
            .invoke(&mut connection)
            .expect("after a flush"),
        6
    );
    assert_eq!(command_stats(&mut connection, "function|load").0, 2);
    assert_counted_once(&mut connection, "sync", &[1, 2, 3, 4, 5, 6]);
    assert!(
        !libraries::missing_libraries(&mut connection)
            .expect("missing_libraries")
            .iter()
            .any(|library| library.name == "fn_bank")
    );
}

#[test]
fn async_calls_on_a_multiplexed_connection_load_once_and_run_once() {
    let server = server();
    let calls = 200_u64;
    runtime().block_on(async {
        let client = server.client();
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        // All at once on an empty server: many meet `Function not found`, each loads (one
        // wins, the others find it loaded) and runs its call once.
        let tasks: Vec<_> = (0..calls)
            .map(|id| {
                let mut connection = connection.clone();
                tokio::spawn(async move {
                    count_call("async", id)
                        .invoke_async(&mut connection)
                        .await
                        .expect("async call")
                })
            })
            .collect();
        let mut counts = Vec::new();
        for task in tasks {
            counts.push(task.await.expect("task"));
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=calls as i64).collect::<Vec<_>>());
        let moved = Function::invoke_async(&transfer("b", "a", "b", "3"), &mut connection)
            .await
            .expect("transfer");
        assert_eq!(moved, 3);
        let balance = Balance {
            account: "{b}:b".into(),
        }
        .invoke_async(&mut connection)
        .await
        .expect("balance");
        assert_eq!(balance, 3);
    });
    let mut connection = server.connection().expect("connect");
    assert_counted_once(&mut connection, "async", &(0..calls).collect::<Vec<_>>());
    let loads = command_stats(&mut connection, "function|load");
    // Every load but one was refused because the library existed: nothing ran twice.
    assert!(loads.0 >= 1, "{loads:?}");
    assert_eq!(loads.0 - loads.1, 1, "one load succeeded: {loads:?}");
}

/// Sends `FUNCTION FLUSH` every `every` until stopped; counts them.
struct Flusher {
    stop: Arc<AtomicBool>,
    flushes: Arc<AtomicU64>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Flusher {
    fn start(mut connection: redis::Connection, every: Duration) -> Flusher {
        let stop = Arc::new(AtomicBool::new(false));
        let flushes = Arc::new(AtomicU64::new(0));
        let thread = thread::spawn({
            let (stop, flushes) = (stop.clone(), flushes.clone());
            move || {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    function_flush(&mut connection);
                    flushes.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(every);
                }
            }
        });
        Flusher {
            stop,
            flushes,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the flusher panicked");
        }
        self.flushes.load(Ordering::Relaxed)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `FUNCTION FLUSH` every 2 ms from another connection while 4 threads and 40 tasks call: every
/// call succeeds, and the log shows each ran exactly once.
#[test]
fn function_flush_mid_run_every_call_runs_exactly_once() {
    let server = server();
    const PER_THREAD: u64 = 5_000;
    const THREADS: u64 = 4;
    const TASKS: u64 = 40;
    const PER_TASK: u64 = 500;
    let flusher = Flusher::start(
        server.connection().expect("connect"),
        Duration::from_millis(2),
    );
    thread::scope(|scope| {
        for thread in 0..THREADS {
            let server = &server;
            scope.spawn(move || {
                let mut connection = server.connection().expect("connect");
                for n in 0..PER_THREAD {
                    let id = thread * PER_THREAD + n;
                    count_call("flush", id)
                        .invoke(&mut connection)
                        .unwrap_or_else(|error| panic!("sync call {id}: {error}"));
                }
            });
        }
        runtime().block_on(async {
            let connection = server
                .client()
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            let base = THREADS * PER_THREAD;
            let tasks: Vec<_> = (0..TASKS)
                .map(|task| {
                    let mut connection = connection.clone();
                    tokio::spawn(async move {
                        for n in 0..PER_TASK {
                            let id = base + task * PER_TASK + n;
                            count_call("flush", id)
                                .invoke_async(&mut connection)
                                .await
                                .unwrap_or_else(|error| panic!("async call {id}: {error}"));
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
        });
    });
    let flushes = flusher.finish();
    let mut connection = server.connection().expect("connect");
    let total = THREADS * PER_THREAD + TASKS * PER_TASK;
    assert_counted_once(&mut connection, "flush", &(0..total).collect::<Vec<_>>());
    let (fcalls, not_found, _) = command_stats(&mut connection, "fcall");
    let loads = command_stats(&mut connection, "function|load");
    eprintln!(
        "{total} calls, {flushes} FUNCTION FLUSHes, {fcalls} FCALLs of which {not_found} found \
         no function, {} FUNCTION LOADs ({} refused: the library existed)",
        loads.0, loads.1
    );
    assert!(flushes >= 20, "{flushes} flushes");
    assert!(not_found >= 5, "the flushes never hit a call: {not_found}");
    // Each call ran once: a call that found no function ran in a transaction with a load.
    assert_eq!(fcalls - not_found, total);
}

#[test]
fn lua_errors_name_the_library_file_and_line() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    // `error(...)` in the function.
    let Err(Error::Script(error)) = transfer("e", "a", "b", "many").invoke(&mut connection) else {
        panic!("a non-numeric amount raises an error");
    };
    assert_eq!(error.path(), "lua/functions/bank.lua");
    assert_eq!(error.line(), 8);
    assert_eq!(error.message(), "amount is not a number: many");
    assert_eq!(
        error.source_line(),
        Some("    error('amount is not a number: ' .. tostring(args[1]))")
    );
    assert_eq!(
        error.redis_error().detail(),
        Some(
            "user_function:8: amount is not a number: many script: fn_transfer, on @user_function:8."
        )
    );
    assert_eq!(
        error.to_string(),
        "lua/functions/bank.lua:8: amount is not a number: many\n    8 |     error('amount is \
         not a number: ' .. tostring(args[1]))"
    );
    // A failed `redis.call`.
    redis::cmd("SET")
        .arg("{e}:b")
        .arg("text")
        .exec(&mut connection)
        .expect("SET");
    let Err(Error::Script(error)) = transfer("e", "a", "b", "1").invoke(&mut connection) else {
        panic!("INCRBY of a text fails");
    };
    assert_eq!((error.path(), error.line()), ("lua/functions/bank.lua", 11));
    assert_eq!(error.message(), "value is not an integer or out of range");
    // DECRBY on line 10 ran before the failure: as with scripts, no rollback.
    let a: i64 = connection.get("{e}:a").expect("GET");
    assert_eq!(a, -1);
    // A reply that does not convert.
    match (RoleAsNumber {}).invoke(&mut connection) {
        Err(Error::Conversion { path, expected, .. }) => {
            assert_eq!((path, expected), ("lua/functions/bank.lua", "i64"));
        }
        other => panic!("a role is not a number: {other:?}"),
    }
    // An error in an included file is reported in that file.
    assert_eq!(
        CheckedEcho { value: "x".into() }
            .invoke(&mut connection)
            .expect("echo"),
        "x"
    );
    let Err(Error::Script(error)) = (CheckedEcho {
        value: String::new(),
    })
    .invoke(&mut connection) else {
        panic!("an empty value raises an error");
    };
    assert_eq!(
        (error.path(), error.line(), error.message()),
        ("lua/functions/includes/checks.lua", 2, "empty value")
    );
}

#[test]
fn a_busy_server_refuses_with_busy() {
    let server = RedisServer::start_with(&[("busy-reply-threshold", "50")]).expect("server");
    let mut connection = server.connection().expect("connect");
    libraries::load_libraries(&mut connection, LibraryPolicy::Report).expect("load");
    let spinner = thread::spawn({
        let mut connection = server.connection().expect("connect");
        move || {
            Spin {
                milliseconds: 1_500,
            }
            .invoke(&mut connection)
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let busy = loop {
        match (Role {}).invoke(&mut connection) {
            Err(Error::Busy { path, source, .. }) => break (path, source),
            Ok(role) if Instant::now() < deadline => {
                assert_eq!(role, "master");
                thread::sleep(Duration::from_millis(10));
            }
            other => panic!("the server never got busy: {other:?}"),
        }
    };
    assert_eq!(busy.0, "lua/functions/bank.lua");
    assert_eq!(busy.1.code(), Some("BUSY"));
    assert!(
        busy.1
            .to_string()
            .contains("You can only call FUNCTION KILL or SHUTDOWN NOSAVE"),
        "{}",
        busy.1
    );
    // A no-writes function can be killed.
    redis::cmd("FUNCTION")
        .arg("KILL")
        .exec(&mut connection)
        .expect("FUNCTION KILL");
    match spinner.join().expect("spinner") {
        Err(Error::Script(error)) => {
            assert!(
                error.message().starts_with("Script killed by user"),
                "{error}"
            );
        }
        other => panic!("the spinning call was killed: {other:?}"),
    }
    assert_eq!(
        Role {}.invoke(&mut connection).expect("after the kill"),
        "master"
    );
}

fn state_of<'a>(reports: &'a [libraries::LibraryReport], name: &str) -> Vec<&'a LibraryState> {
    reports
        .iter()
        .filter(|report| report.library.name == name)
        .map(|report| &report.state)
        .collect()
}

fn version_1_loaded(connection: &mut redis::Connection) {
    redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(VERSION_1)
        .exec(connection)
        .expect("load version 1");
}

#[test]
fn stale_library_is_reported_and_left_with_the_report_policy() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    version_1_loaded(&mut connection);
    // The trap: the server silently runs the old code.
    assert_eq!(Version {}.invoke(&mut connection).expect("version"), 1);
    // A function the old version lacks: found missing even after loading (refused: it exists).
    match (VersionAdded {}).invoke(&mut connection) {
        Err(Error::FunctionMissing {
            function,
            library,
            path,
            source,
        }) => {
            assert_eq!(
                (function, library, path),
                (
                    "fn_version_added",
                    "fn_versioned",
                    "lua/functions/versioned.lua"
                )
            );
            assert_eq!(source.detail(), Some("Function not found"));
        }
        other => panic!("version 1 has no fn_version_added: {other:?}"),
    }

    let stale = libraries::stale_libraries(&mut connection).expect("stale_libraries");
    let names: Vec<&str> = stale.iter().map(|stale| stale.library.name).collect();
    assert_eq!(names, ["fn_versioned"]);
    assert_eq!(stale[0].loaded_code, VERSION_1);
    assert_eq!(stale[0].library.source, VERSIONED);

    let reports =
        libraries::load_libraries(&mut connection, LibraryPolicy::default()).expect("load");
    match state_of(&reports, "fn_versioned")[..] {
        [LibraryState::Stale { loaded_code }] => assert_eq!(loaded_code, VERSION_1),
        ref other => panic!("reported stale: {other:?}"),
    }
    assert!(matches!(
        state_of(&reports, "fn_bank")[..],
        [LibraryState::Loaded]
    ));
    // Nothing changed: still the old code.
    assert_eq!(Version {}.invoke(&mut connection).expect("version"), 1);
    let again = libraries::stale_libraries(&mut connection).expect("stale_libraries");
    assert_eq!(again.len(), 1);
}

#[test]
fn stale_library_is_replaced_with_the_replace_policy() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    version_1_loaded(&mut connection);
    let reports = libraries::load_libraries(&mut connection, LibraryPolicy::Replace).expect("load");
    match state_of(&reports, "fn_versioned")[..] {
        [LibraryState::Replaced { previous_code }] => assert_eq!(previous_code, VERSION_1),
        ref other => panic!("replaced: {other:?}"),
    }
    assert_eq!(Version {}.invoke(&mut connection).expect("version"), 2);
    assert_eq!(
        VersionAdded {}.invoke(&mut connection).expect("added"),
        "new in version 2"
    );
    assert!(
        libraries::stale_libraries(&mut connection)
            .expect("stale_libraries")
            .iter()
            .all(|stale| stale.library.name == "fn_conflicted")
    );
    // Everything but the conflict and the taken name is current now, and stays so.
    let again =
        libraries::load_libraries(&mut connection, LibraryPolicy::Replace).expect("load again");
    for report in &again {
        if report.library.name == "fn_conflicted" {
            assert!(matches!(report.state, LibraryState::Conflict { .. }));
        } else if report.library.name == "fn_taken_name" {
            assert!(matches!(report.state, LibraryState::Failed(_)));
        } else {
            assert!(
                matches!(report.state, LibraryState::UpToDate),
                "{}: {:?}",
                report.library.name,
                report.state
            );
        }
    }
}

#[test]
fn conflicting_libraries_are_reported_and_not_loaded() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    let registered = redis_script::registered_libraries();
    let conflicted: Vec<&str> = registered
        .iter()
        .filter(|library| library.name == "fn_conflicted")
        .map(|library| library.path)
        .collect();
    assert_eq!(
        conflicted,
        [
            "lua/functions/conflict_a.lua",
            "lua/functions/conflict_b.lua"
        ]
    );
    // Several functions of one library register it once each; it is listed once.
    assert_eq!(
        registered
            .iter()
            .filter(|library| library.name == "fn_bank")
            .count(),
        1
    );
    let reports = libraries::load_libraries(&mut connection, LibraryPolicy::Replace).expect("load");
    let conflicts: Vec<(&str, Vec<&str>)> = reports
        .iter()
        .filter_map(|report| match &report.state {
            LibraryState::Conflict { others } => Some((
                report.library.path,
                others.iter().map(|other| other.path).collect(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        conflicts,
        [
            (
                "lua/functions/conflict_a.lua",
                vec!["lua/functions/conflict_b.lua"]
            ),
            (
                "lua/functions/conflict_b.lua",
                vec!["lua/functions/conflict_a.lua"]
            ),
        ]
    );
    assert!(!loaded_libraries(&mut connection).contains(&"fn_conflicted".to_owned()));
    // A library whose function name another library has taken is reported, not loaded.
    let taken = state_of(&reports, "fn_taken_name");
    match taken[..] {
        [LibraryState::Failed(error)] => {
            assert_eq!(error.detail(), Some("Function fn_role already exists"));
        }
        ref other => panic!("fn_role is taken by fn_bank: {other:?}"),
    }
    // Function names are global to the server: `fn_role` is fn_bank's, which the call runs.
    assert_eq!(
        (TakenName {}).invoke(&mut connection).expect("fn_role"),
        "master"
    );
}

#[test]
fn a_function_the_server_refuses_to_load_fails_with_library_load() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    // Another library owns the name of a function of fn_bank: fn_bank cannot be loaded.
    redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=squatter\nredis.register_function('fn_count_call', function() return 0 end)")
        .exec(&mut connection)
        .expect("load the squatter");
    // fn_count_call exists (the squatter's), fn_transfer does not and its library is refused.
    match transfer("l", "a", "b", "1").invoke(&mut connection) {
        Err(Error::LibraryLoad {
            library,
            path,
            source,
        }) => {
            assert_eq!((library, path), ("fn_bank", "lua/functions/bank.lua"));
            assert_eq!(
                source.detail(),
                Some("Function fn_count_call already exists")
            );
        }
        other => panic!("fn_bank cannot be loaded: {other:?}"),
    }
    let (fcalls, not_found, _) = command_stats(&mut connection, "fcall");
    assert_eq!(
        (fcalls, not_found),
        (2, 2),
        "both calls found nothing: nothing ran"
    );
}

fn wait_for_link(replica: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(replica)
            .expect("INFO");
        if info.contains("master_link_status:up") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never linked: {info}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `check` every 50 ms for up to 10 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn read_only_functions_are_served_by_a_standalone_replica() {
    let primary = server();
    let replica =
        RedisServer::start_with(&[("replicaof", &format!("127.0.0.1 {}", primary.port()))])
            .expect("replica");
    let mut replica_connection = replica.connection().expect("connect to the replica");
    wait_for_link(&mut replica_connection);
    let mut connection = primary.connection().expect("connect");
    let reports = libraries::load_libraries(&mut connection, LibraryPolicy::Report).expect("load");
    assert!(matches!(
        state_of(&reports, "fn_bank")[..],
        [LibraryState::Loaded]
    ));
    transfer("r", "a", "b", "12")
        .invoke(&mut connection)
        .expect("transfer");
    eventually("the library and the write reach the replica", || {
        loaded_libraries(&mut replica_connection).contains(&"fn_bank".to_owned())
            && replica_connection
                .get::<_, Option<i64>>("{r}:b")
                .ok()
                .flatten()
                == Some(12)
    });
    let before = command_stats(&mut replica_connection, "fcall_ro");
    for _ in 0..10 {
        let balance = Balance {
            account: "{r}:b".into(),
        }
        .invoke(&mut replica_connection)
        .expect("FCALL_RO on the replica");
        assert_eq!(balance, 12);
    }
    let after = command_stats(&mut replica_connection, "fcall_ro");
    assert_eq!(after.0 - before.0, 10, "{before:?} -> {after:?}");
    // Nothing checked on the replica is stale or missing.
    assert!(
        !libraries::missing_libraries(&mut replica_connection)
            .expect("missing")
            .iter()
            .any(|library| library.name == "fn_bank")
    );
    // A function that writes is refused by the replica before it runs.
    match transfer("r", "a", "b", "1").invoke(&mut replica_connection) {
        Err(Error::Redis(error)) => assert_eq!(error.code(), Some("READONLY"), "{error}"),
        other => panic!("a replica refuses writes: {other:?}"),
    }
}

/// The cluster shared by the tests that leave it as they found it, one test at a time.
fn shared() -> (MutexGuard<'static, ()>, &'static RedisCluster) {
    static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let cluster =
        CLUSTER.get_or_init(|| RedisCluster::start().expect("start a 6-node redis cluster"));
    (guard, cluster)
}

fn node_connection(node: &ClusterNode) -> redis::Connection {
    node.connection().expect("connect to a node")
}

fn flush_primaries(cluster: &RedisCluster) {
    for node in cluster.primaries() {
        function_flush(&mut node_connection(node));
    }
}

#[test]
fn cluster_libraries_reach_the_replicas_and_every_entry_point_calls() {
    let (_one_at_a_time, cluster) = shared();
    flush_primaries(cluster);
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("connection");

    let nodes = libraries::load_libraries_cluster(&mut connection, LibraryPolicy::Report)
        .expect("load on the primaries");
    let mut addresses: Vec<String> = nodes.iter().map(|node| node.address.clone()).collect();
    addresses.sort();
    let mut primaries: Vec<String> = cluster
        .primaries()
        .iter()
        .map(|node| format!("127.0.0.1:{}", node.port()))
        .collect();
    primaries.sort();
    assert_eq!(addresses, primaries, "every primary, and only them");
    for node in &nodes {
        let reports = node.result.as_ref().expect("the node answered");
        assert!(
            matches!(state_of(reports, "fn_bank")[..], [LibraryState::Loaded]),
            "{}: {reports:?}",
            node.address
        );
    }
    // Replicas receive the libraries by replication.
    for replica in cluster.replicas() {
        let mut replica_connection = node_connection(replica);
        eventually("the libraries reach every replica", || {
            loaded_libraries(&mut replica_connection).contains(&"fn_bank".to_owned())
        });
        let reports = libraries::stale_libraries(&mut replica_connection).expect("stale");
        assert!(
            reports
                .iter()
                .all(|stale| stale.library.name == "fn_conflicted"),
            "{reports:?}"
        );
    }
    let again = libraries::load_libraries_cluster(&mut connection, LibraryPolicy::Report)
        .expect("load again");
    for node in &again {
        let reports = node.result.as_ref().expect("the node answered");
        assert!(matches!(
            state_of(reports, "fn_bank")[..],
            [LibraryState::UpToDate]
        ));
    }

    // Every entry point, sync and async, generic and routed.
    let tag = "cluster-calls";
    let mut expected = Vec::new();
    for id in 0..5 {
        count_call(tag, id)
            .invoke(&mut connection)
            .expect("generic sync");
        cluster_functions::invoke(&count_call(tag, 100 + id), &mut connection)
            .expect("routed sync");
        expected.extend([id, 100 + id]);
    }
    for _ in 0..10 {
        // Keyless: routed to a primary, never a replica (which would refuse to run it).
        assert_eq!(
            cluster_functions::invoke(&Role {}, &mut connection).expect("keyless"),
            "master"
        );
    }
    runtime().block_on(async {
        let mut connection = client.get_async_connection().await.expect("async");
        for id in 0..5 {
            count_call(tag, 200 + id)
                .invoke_async(&mut connection)
                .await
                .expect("generic async");
            cluster_functions::invoke_async(&count_call(tag, 300 + id), &mut connection)
                .await
                .expect("routed async");
        }
        for _ in 0..10 {
            let role = cluster_functions::invoke_async(&Role {}, &mut connection)
                .await
                .expect("keyless async");
            assert_eq!(role, "master");
        }
        let moved = transfer("cb", "a", "b", "4")
            .invoke_async(&mut connection)
            .await
            .expect("transfer");
        assert_eq!(moved, 4);
    });
    expected.extend((0..5).flat_map(|id| [200 + id, 300 + id]));
    let node = cluster
        .node_for_slot(hash_slot(tag.as_bytes()))
        .expect("the tag's node");
    assert_counted_once(&mut node_connection(node), tag, &expected);
}

/// `Function::invoke_and_wait` on a cluster: `FCALL` and `WAIT` reach the keys' primary, whose
/// replica acknowledges; with the library missing first (flushed), it is loaded and the call
/// runs once; sync and async alike.
#[test]
fn cluster_functions_wait_for_their_replica() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    let wait = Duration::from_secs(2);
    let tag = "cluster-wait";
    let mut ids = Vec::new();
    for (round, flushed) in [(0, true), (1, false), (2, true), (3, false)] {
        if flushed {
            flush_primaries(cluster);
        }
        let call = count_call(tag, round);
        let done = if round < 2 {
            let mut connection = client.get_connection().expect("connection");
            call.invoke_and_wait(&mut connection, 1, wait)
        } else {
            runtime().block_on(async {
                let mut connection = client.get_async_connection().await.expect("async");
                call.invoke_and_wait_async(&mut connection, 1, wait).await
            })
        }
        .expect("invoke and wait");
        ids.push(round);
        assert_eq!(done.value, ids.len() as i64, "round {round}");
        assert_eq!(
            done.replicas, 1,
            "round {round}: the primary's replica acknowledged"
        );
    }
    let node = cluster
        .node_for_slot(hash_slot(tag.as_bytes()))
        .expect("the tag's node");
    assert_counted_once(&mut node_connection(node), tag, &ids);
}

#[test]
fn cluster_missing_library_is_loaded_on_every_primary_by_the_first_call() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    for (round, kind) in [
        "generic sync",
        "routed sync",
        "generic async",
        "routed async",
    ]
    .into_iter()
    .enumerate()
    {
        flush_primaries(cluster);
        for replica in cluster.replicas() {
            let mut replica_connection = node_connection(replica);
            eventually("the flush reaches the replicas", || {
                loaded_libraries(&mut replica_connection).is_empty()
            });
        }
        let tag = format!("cluster-first-{round}");
        let call = count_call(&tag, 1);
        let count = match round {
            0 => call.invoke(&mut client.get_connection().expect("connection")),
            1 => {
                cluster_functions::invoke(&call, &mut client.get_connection().expect("connection"))
            }
            _ => runtime().block_on(async {
                let mut connection = client.get_async_connection().await.expect("async");
                if round == 2 {
                    call.invoke_async(&mut connection).await
                } else {
                    cluster_functions::invoke_async(&call, &mut connection).await
                }
            }),
        };
        assert_eq!(count.expect(kind), 1, "{kind}");
        for node in cluster.primaries() {
            assert!(
                loaded_libraries(&mut node_connection(node)).contains(&"fn_bank".to_owned()),
                "{kind}: primary {} has the library",
                node.port()
            );
        }
        let node = cluster
            .node_for_slot(hash_slot(tag.as_bytes()))
            .expect("the tag's node");
        assert_counted_once(&mut node_connection(node), &tag, &[1]);
    }
}

#[test]
fn cluster_replica_serves_fcall_ro_after_readonly() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("connection");
    libraries::load_libraries_cluster(&mut connection, LibraryPolicy::Report).expect("load");
    let bank = "replica-reads";
    let moved = transfer(bank, "a", "b", "9")
        .invoke(&mut connection)
        .expect("transfer");
    let primary = cluster
        .node_for_slot(hash_slot(bank.as_bytes()))
        .expect("the tag's node");
    let acknowledged: usize = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query(&mut node_connection(primary))
        .expect("WAIT");
    assert_eq!((moved, acknowledged), (9, 1));
    let replica = cluster
        .replicas()
        .into_iter()
        .find(|replica| {
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query(&mut node_connection(replica))
                .expect("INFO");
            info.contains(&format!("master_port:{}", primary.port()))
        })
        .expect("the primary's replica");
    let mut replica_connection = node_connection(replica);
    redis::cmd("READONLY")
        .exec(&mut replica_connection)
        .expect("READONLY");
    let before = command_stats(&mut replica_connection, "fcall_ro");
    for _ in 0..10 {
        let balance = Balance {
            account: format!("{{{bank}}}:b"),
        }
        .invoke(&mut replica_connection)
        .expect("FCALL_RO on the replica");
        assert_eq!(balance, 9);
    }
    let after = command_stats(&mut replica_connection, "fcall_ro");
    assert_eq!(after.0 - before.0, 10, "{before:?} -> {after:?}");
}

/// The library is loaded on the primaries only; after a primary is killed and its replica takes
/// over, calls keep working on the promoted replica with no load.
#[test]
fn functions_keep_working_after_a_failover_without_a_reload() {
    let mut cluster = RedisCluster::start().expect("start a cluster");
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("connection");
    let nodes = libraries::load_libraries_cluster(&mut connection, LibraryPolicy::Report)
        .expect("load on the primaries");
    assert!(nodes.iter().all(|node| node.result.is_ok()));
    let tag = "failover";
    for id in 0..3 {
        count_call(tag, id).invoke(&mut connection).expect("before");
    }
    let slot = hash_slot(tag.as_bytes());
    let primary = cluster.node_for_slot(slot).expect("the tag's node").port();
    let acknowledged: usize = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query(&mut node_connection(
            cluster.node_for_slot(slot).expect("node"),
        ))
        .expect("WAIT");
    assert_eq!(acknowledged, 1);

    cluster.kill(primary);
    let promoted = cluster
        .wait_for_failover(primary, Duration::from_secs(30))
        .expect("failover");
    let promoted_node = cluster.node_for_slot(slot).expect("the new primary");
    assert_eq!(promoted_node.port(), promoted);
    let loads_before = command_stats(&mut node_connection(promoted_node), "function|load");

    // A new connection, and the routed call on the old one (which reloads its slot map after
    // the I/O error of the dead primary, without sending the call again).
    let mut fresh = client.get_connection().expect("a new connection");
    assert_eq!(count_call(tag, 3).invoke(&mut fresh).expect("after"), 4);
    let mut recovered = None;
    for attempt in 0..5 {
        match cluster_functions::invoke(&count_call(tag, 10 + attempt), &mut connection) {
            Ok(count) => {
                recovered = Some((attempt, count));
                break;
            }
            Err(error) => assert!(error.is_io_error(), "{error}"),
        }
    }
    let (attempt, count) = recovered.expect("the old connection recovers");
    assert_eq!(count, 5);
    // Bounded: the async cluster client retries a failing request for minutes by default.
    runtime().block_on(async {
        let limit = Duration::from_secs(60);
        let count = tokio::time::timeout(limit, async {
            let mut connection = client.get_async_connection().await.expect("async");
            cluster_functions::invoke_async(&count_call(tag, 20), &mut connection)
                .await
                .expect("async after")
        })
        .await
        .unwrap_or_else(|_| panic!("the async call after the failover: no reply within {limit:?}"));
        assert_eq!(count, 6);
    });

    let mut promoted_connection = node_connection(promoted_node);
    let loads_after = command_stats(&mut promoted_connection, "function|load");
    assert_eq!(
        loads_after, loads_before,
        "no FUNCTION LOAD after the failover"
    );

    // Checking the primaries now: the promoted replica has the library, up to date; the dead
    // primary, still listed (as failed), is reported as unreachable, on its own.
    let nodes = libraries::load_libraries_cluster(&mut fresh, LibraryPolicy::Report)
        .expect("check the primaries");
    let dead = format!("127.0.0.1:{primary}");
    let promoted_address = format!("127.0.0.1:{promoted}");
    for node in &nodes {
        match &node.result {
            Err(error) => {
                assert_eq!(node.address, dead, "{error}");
                assert!(error.is_io_error(), "{error}");
            }
            Ok(reports) => {
                assert_ne!(node.address, dead);
                assert!(matches!(
                    state_of(reports, "fn_bank")[..],
                    [LibraryState::UpToDate]
                ));
            }
        }
    }
    assert!(
        nodes
            .iter()
            .any(|node| node.address == promoted_address && node.result.is_ok())
    );
    assert!(
        nodes
            .iter()
            .any(|node| node.address == dead && node.result.is_err())
    );
    let (_, not_found, _) = command_stats(&mut promoted_connection, "fcall");
    assert_eq!(not_found, 0, "every call found the function");
    assert_counted_once(
        &mut promoted_connection,
        tag,
        &[0, 1, 2, 3, 10 + attempt, 20],
    );
}

/// `allow(unproven_key_slots)` moves the slot proof to run time: keys of two slots are refused
/// before anything is sent, and nothing runs.
#[test]
fn keys_whose_slots_were_not_proven_are_checked_before_sending() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    let refused = Transfer {
        from: "{a}:alice".into(),
        to: "{b}:bob".into(),
        amount: "5".into(),
    }
    .invoke(&mut connection);
    let Err(Error::CrossSlot { keys_and_slots, .. }) = refused else {
        panic!("expected CrossSlot, got {refused:?}")
    };
    assert_eq!(
        keys_and_slots,
        vec![
            (b"{a}:alice".to_vec(), hash_slot(b"a")),
            (b"{b}:bob".to_vec(), hash_slot(b"b"))
        ]
    );
    // Not even the library was loaded: nothing reached the server.
    let loaded: Vec<redis::Value> = redis::cmd("FUNCTION")
        .arg("LIST")
        .query(&mut connection)
        .expect("FUNCTION LIST");
    assert!(loaded.is_empty(), "{loaded:?}");
}

// ---------------------------------------------------------------------------------------------
// Functions in pipelines, transactions and cluster batches.

/// The log of `tag`, in the order the calls ran.
fn log_of(connection: &mut redis::Connection, tag: &str) -> Vec<u64> {
    connection
        .lrange(format!("{{{tag}}}:log"), 0, -1)
        .expect("LRANGE")
}

/// A pipeline mixing functions (`FCALL` and `FCALL_RO`), a script and plain commands, on a
/// server that never saw the library: every reply typed and right, Lua errors in the library
/// file, and after a `FUNCTION FLUSH` a pipeline of calls recovered in order.
#[test]
fn pipelines_mix_functions_scripts_and_commands() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    let mut pipeline = ScriptPipeline::new();
    let set = pipeline.command::<()>(redis::cmd("SET").arg("{p}:a").arg(10));
    let moved = pipeline.invoke_function(&transfer("p", "a", "b", "3"));
    let appended = pipeline.invoke(&AppendEntry {
        list: "{p}:entries".into(),
        entry: "x".into(),
    });
    let left = pipeline.command::<i64>(redis::cmd("GET").arg("{p}:a"));
    let balance = pipeline.invoke_function(&Balance {
        account: "{p}:b".into(),
    });
    let counted = pipeline.invoke_function(&count_call("p", 1));
    let failed = pipeline.invoke_function(&transfer("p", "a", "b", "many"));
    let length = pipeline.command::<i64>(redis::cmd("LLEN").arg("{p}:log"));
    let replies = pipeline.query(&mut connection).expect("the pipeline");
    assert_eq!(replies.len(), 8);
    replies.get(set).expect("SET");
    assert_eq!(replies.get(moved).expect("transfer"), 3);
    assert_eq!(replies.get(appended).expect("script"), 1);
    assert_eq!(replies.get(left).expect("GET"), 7);
    assert_eq!(replies.get(balance).expect("FCALL_RO"), 3);
    assert_eq!(replies.get(counted).expect("count"), 1);
    assert_eq!(replies.get(length).expect("LLEN"), 1);
    match replies.get(failed) {
        Err(Error::Script(error)) => {
            assert_eq!(error.path(), "lua/functions/bank.lua");
            assert_eq!(error.line(), 8);
            assert_eq!(error.message(), "amount is not a number: many");
        }
        other => panic!("a Lua error in the library file, got {other:?}"),
    }
    assert_eq!(replies.not_run().count(), 0);
    let (fcalls, not_found, _) = command_stats(&mut connection, "fcall");
    // One failed call: the Lua error. None missed the library: it was loaded up front.
    assert_eq!((fcalls, not_found), (3, 1));
    assert_eq!(loaded_libraries(&mut connection), ["fn_bank"]);

    // A flush empties the server: a pipeline of calls misses the library on every call, so
    // they all go again, in order, after one load.
    function_flush(&mut connection);
    let mut pipeline = ScriptPipeline::new();
    let tickets: Vec<_> = (2..=21)
        .map(|id| pipeline.invoke_function(&count_call("p", id)))
        .collect();
    let replies = pipeline.query(&mut connection).expect("after a flush");
    for (position, ticket) in tickets.into_iter().enumerate() {
        assert_eq!(replies.get(ticket).expect("count"), position as i64 + 2);
    }
    assert_eq!(log_of(&mut connection, "p"), (1..=21).collect::<Vec<_>>());

    // The same on an asynchronous connection.
    function_flush(&mut connection);
    runtime().block_on(async {
        let mut connection = server
            .client()
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let mut pipeline = ScriptPipeline::new();
        let first = pipeline.invoke_function(&count_call("p", 22));
        let length = pipeline.command::<i64>(redis::cmd("LLEN").arg("{p}:log"));
        let second = pipeline.invoke_function(&count_call("p", 23));
        let replies = pipeline
            .query_async(&mut connection)
            .await
            .expect("async pipeline");
        // A command follows the first call, so the library was loaded up front: the first
        // call did not miss it, and nothing is reported as not run.
        assert_eq!(replies.get(first).expect("first"), 22);
        assert_eq!(replies.get(length).expect("LLEN"), 22);
        assert_eq!(replies.get(second).expect("second"), 23);
        assert_eq!(replies.not_run().count(), 0);
    });
    assert_eq!(log_of(&mut connection, "p"), (1..=23).collect::<Vec<_>>());
}

/// A transaction with functions: the library loaded inside `MULTI` (answered "already exists"
/// once it is there, which the transaction drops), scripts and commands next to the calls, a
/// `FUNCTION FLUSH` inside the transaction followed by a load, and a stale library reported as
/// `FunctionMissing`.
#[test]
fn transactions_run_functions_atomically() {
    let server = server();
    let mut connection = server.connection().expect("connect");
    for round in 1..=2 {
        let mut transaction = ScriptTransaction::new();
        let moved = transaction.invoke_function(&transfer("t", "a", "b", "5"));
        let appended = transaction.invoke(&AppendEntry {
            list: "{t}:entries".into(),
            entry: round.to_string(),
        });
        let balance = transaction.invoke_function(&Balance {
            account: "{t}:b".into(),
        });
        let left = transaction.command::<i64>(redis::cmd("GET").arg("{t}:a"));
        let counted = transaction.invoke_function(&count_call("t", round));
        // FUNCTION LOAD, FCALL, SCRIPT LOAD, EVALSHA, FCALL_RO, GET, FCALL.
        assert_eq!(transaction.as_pipeline().len(), 7);
        let replies = transaction
            .query(&mut connection)
            .expect("the transaction")
            .expect("nothing is WATCHed");
        assert_eq!(replies.len(), 5);
        assert_eq!(replies.get(moved).expect("transfer"), 5 * round as i64);
        assert_eq!(replies.get(appended).expect("script"), round as i64);
        assert_eq!(replies.get(balance).expect("balance"), 5 * round as i64);
        assert_eq!(replies.get(left).expect("GET"), -5 * round as i64);
        assert_eq!(replies.get(counted).expect("count"), round as i64);
    }
    let loads = command_stats(&mut connection, "function|load");
    assert_eq!(
        loads,
        (2, 1, 0),
        "the second load found the library and was dropped"
    );

    // A flush inside the transaction: the next call is preceded by a new load.
    let mut transaction = ScriptTransaction::new();
    let before = transaction.invoke_function(&count_call("t", 3));
    transaction.command::<()>(redis::cmd("FUNCTION").arg("FLUSH"));
    let after = transaction.invoke_function(&count_call("t", 4));
    assert_eq!(transaction.as_pipeline().len(), 5);
    let replies = runtime()
        .block_on(async {
            let mut connection = server
                .client()
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            transaction.query_async(&mut connection).await
        })
        .expect("async transaction")
        .expect("nothing is WATCHed");
    assert_eq!(replies.get(before).expect("before the flush"), 3);
    assert_eq!(replies.get(after).expect("after the flush"), 4);
    assert_eq!(log_of(&mut connection, "t"), [1, 2, 3, 4]);

    // A library of the same name without the function: the load says "already exists", the
    // call finds nothing, and the error says which function the server's library lacks.
    version_1_loaded(&mut connection);
    let mut transaction = ScriptTransaction::new();
    let added = transaction.invoke_function(&VersionAdded);
    let version = transaction.invoke_function(&Version);
    let replies = transaction
        .query(&mut connection)
        .expect("the transaction")
        .expect("nothing is WATCHed");
    assert!(
        matches!(
            replies.get(added),
            Err(Error::FunctionMissing {
                function: "fn_version_added",
                library: "fn_versioned",
                ..
            })
        ),
        "{:?}",
        replies.get(added)
    );
    assert_eq!(replies.get(version).expect("the old version runs"), 1);
}

/// Pipelines of calls on one connection while another sends `FUNCTION FLUSH` every
/// millisecond: every call ran exactly once, in the order added, or was reported as not run
/// (and did not run). Some pipelines have a plain command in the middle, after which nothing
/// before it can be sent again.
#[test]
fn function_flush_during_pipelines_every_call_runs_once_in_order_or_is_reported() {
    const PIPELINES: u64 = 400;
    const DEPTH: u64 = 100;
    let server = server();
    let flusher = Flusher::start(
        server.connection().expect("connect"),
        Duration::from_millis(1),
    );
    let mut connection = server.connection().expect("connect");
    let runtime = runtime();
    let mut async_connection = runtime
        .block_on(server.client().get_multiplexed_async_connection())
        .expect("connect");
    let mut ran = Vec::new();
    let mut not_run = Vec::new();
    let mut id = 0;
    for round in 0..PIPELINES {
        let mut pipeline = ScriptPipeline::new();
        let mut tickets = Vec::new();
        for position in 0..DEPTH {
            if round % 4 == 0 && position == DEPTH / 2 {
                pipeline.command::<()>(redis::cmd("PING"));
            }
            tickets.push((id, pipeline.invoke_function(&count_call("fp", id))));
            id += 1;
        }
        let replies = if round % 2 == 0 {
            pipeline.query(&mut connection).expect("the pipeline")
        } else {
            runtime
                .block_on(pipeline.query_async(&mut async_connection))
                .expect("the async pipeline")
        };
        let reported: Vec<usize> = replies.not_run().collect();
        for (id, ticket) in tickets {
            match replies.get(ticket) {
                Ok(count) => {
                    ran.push(id);
                    // The counter is the call's position among those that ran: once, in order.
                    assert_eq!(count as usize, ran.len(), "call {id}");
                }
                Err(Error::NotRun { .. }) => {
                    assert!(reported.contains(&ticket.index()), "call {id}");
                    not_run.push(id);
                }
                Err(error) => panic!("call {id}: {error}"),
            }
        }
    }
    let flushes = flusher.finish();
    let mut connection = server.connection().expect("connect");
    assert_eq!(
        log_of(&mut connection, "fp"),
        ran,
        "what ran, ran once and in order"
    );
    let count: u64 = connection.get("{fp}:count").expect("GET");
    assert_eq!(count, ran.len() as u64);
    assert_eq!(ran.len() + not_run.len(), (PIPELINES * DEPTH) as usize);
    let (fcalls, not_found, _) = command_stats(&mut connection, "fcall");
    eprintln!(
        "{} calls in pipelines, {flushes} FUNCTION FLUSHes, {not_found} FCALLs found no \
         function, {} reported not run",
        PIPELINES * DEPTH,
        not_run.len()
    );
    assert!(flushes >= 20, "{flushes} flushes");
    assert!(
        not_found >= 5,
        "the flushes never hit a pipeline: {not_found}"
    );
    assert_eq!(fcalls - not_found, ran.len() as u64);
}

/// A cluster batch of functions over the 3 + 3 cluster, on primaries without the library and
/// then under `FUNCTION FLUSH`es: replies in the order added, each call run once and in order
/// per slot, keyless calls on primaries.
#[test]
fn cluster_batches_call_functions_once_in_order() {
    const TAGS: u64 = 24;
    const PER_BATCH: u64 = 600;
    const BATCHES: u64 = 10;
    let (_one_at_a_time, cluster) = shared();
    flush_primaries(cluster);
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = runtime();
    let mut nodes = runtime
        .block_on(ClusterNodes::connect(cluster.urls()[0].as_str()))
        .expect("the cluster's nodes");
    let tags: Vec<String> = (0..TAGS).map(|tag| format!("cb{tag}")).collect();
    let mut expected: Vec<Vec<u64>> = vec![Vec::new(); TAGS as usize];
    let mut flusher = None;
    let mut id = 0;
    for batch_number in 0..BATCHES {
        if batch_number == 1 {
            // From the second batch on, the primaries lose the library every 2 ms.
            let mut connections: Vec<redis::Connection> = cluster
                .primaries()
                .into_iter()
                .map(node_connection)
                .collect();
            let stop = stop.clone();
            flusher = Some(thread::spawn(move || {
                let mut flushes = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for connection in &mut connections {
                        function_flush(connection);
                    }
                    flushes += 1;
                    thread::sleep(Duration::from_millis(2));
                }
                flushes
            }));
        }
        let mut batch = ClusterBatch::new();
        let mut tickets = Vec::new();
        for _ in 0..PER_BATCH {
            let tag = (id % TAGS) as usize;
            tickets.push((id, tag, batch.invoke_function(&count_call(&tags[tag], id))));
            id += 1;
        }
        let roles: Vec<_> = (0..3).map(|_| batch.invoke_function(&Role)).collect();
        let replies = runtime
            .block_on(batch.run_async(&mut nodes))
            .expect("the batch");
        assert_eq!(replies.len(), (PER_BATCH + 3) as usize);
        assert_eq!(
            replies.not_run().count(),
            0,
            "every group was sent again whole"
        );
        for (id, tag, ticket) in tickets {
            expected[tag].push(id);
            let count = replies
                .get(ticket)
                .unwrap_or_else(|error| panic!("call {id}: {error}"));
            // The counter of a tag is the call's position among its tag's: once, in order.
            assert_eq!(count as usize, expected[tag].len(), "call {id}");
        }
        for role in roles {
            assert_eq!(replies.get(role).expect("keyless"), "master");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let flushes = flusher
        .map(|flusher| flusher.join().expect("the flusher"))
        .unwrap_or(0);
    assert!(flushes >= 5, "{flushes} flushes");
    for (tag, ids) in tags.iter().zip(&expected) {
        let node = cluster
            .node_for_slot(hash_slot(tag.as_bytes()))
            .expect("the tag's node");
        let mut connection = node_connection(node);
        assert_eq!(
            &log_of(&mut connection, tag),
            ids,
            "{tag}: once each, in order"
        );
        let count: u64 = connection.get(format!("{{{tag}}}:count")).expect("GET");
        assert_eq!(count, ids.len() as u64);
    }
}
