//! Scripts in pipelines and transactions, the registry, against a real standalone server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use redis::Commands;
use redis_script::{
    Error, Outcome, PipelineExt, Ran, RedisScript, Script, ScriptPipeline, ScriptTransaction,
    ShebangFlags, registry,
};
use throwaway_redis::{RedisCluster, RedisServer};

/// `INCR {tag}:count`, `RPUSH {tag}:log id`; returns the count.
#[derive(RedisScript)]
#[redis_script(path = "lua/count_calls.lua", returns = i64)]
struct CountCall<'a> {
    tag: &'a str,
    #[key("{{{tag}}}:{}")]
    counter: &'a str,
    #[key("{{{tag}}}:{}")]
    log: &'a str,
    #[arg]
    id: u64,
}

fn count_call(tag: &str, id: u64) -> CountCall<'_> {
    CountCall {
        tag,
        counter: "count",
        log: "log",
        id,
    }
}

#[derive(RedisScript)]
#[redis_script(path = "lua/failing.lua", returns = i64)]
struct Failing<'a> {
    #[key]
    key: &'a str,
    #[arg]
    mode: &'a str,
}

/// `RPUSH list entry`; returns the list's length.
#[derive(RedisScript)]
#[redis_script(path = "lua/append_id.lua", returns = i64)]
struct AppendEntry<'a> {
    #[key]
    list: &'a str,
    #[arg]
    entry: &'a str,
}

/// `RPUSH list entry`, then `error(...)`: the write stays, as Redis defines (no rollback).
#[derive(RedisScript)]
#[redis_script(path = "lua/write_then_fail.lua", returns = i64)]
struct WriteThenFail<'a> {
    #[key]
    list: &'a str,
    #[arg]
    entry: &'a str,
}

/// A script whose source the server cannot compile, so its `SCRIPT LOAD` fails: written by
/// hand, because the derive refuses such a file at compile time.
struct Uncompilable<'a> {
    key: &'a str,
}

impl Script for Uncompilable<'_> {
    type Output = i64;
    const NAME: &'static str = "Uncompilable";
    const PATH: &'static str = "lua/uncompilable.lua";
    const SOURCE: &'static str = "return redis.call('INCR', KEYS[1]) +";
    const SHA1: &'static str = "320e34e950f7ec08cdc7145c2468d8c297664b89";
    const KEY_FIELDS: &'static [&'static str] = &["key"];
    const ARG_FIELDS: &'static [&'static str] = &[];
    const FLAGS: ShebangFlags = ShebangFlags {
        no_writes: false,
        allow_oom: false,
        allow_stale: false,
        no_cluster: false,
        allow_cross_slot_keys: false,
    };
    const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None];
    const STANDALONE_ONLY: bool = true;

    fn write_keys_and_args(&self, command: &mut redis::Cmd) {
        command.arg(1).arg(self.key);
    }
}

/// The ~25 KB script of production job queues: 312 helpers, then what `count_calls.lua` does.
#[derive(RedisScript)]
#[redis_script(path = "lua/count_calls_large.lua", returns = i64)]
struct CountCallLarge<'a> {
    tag: &'a str,
    #[key("{{{tag}}}:{}")]
    counter: &'a str,
    #[key("{{{tag}}}:{}")]
    log: &'a str,
    #[arg]
    id: u64,
}

fn count_call_large(tag: &str, id: u64) -> CountCallLarge<'_> {
    CountCallLarge {
        tag,
        counter: "count",
        log: "log",
        id,
    }
}

#[derive(RedisScript)]
#[redis_script(path = "lua/read_only_get.lua", returns = Option<String>)]
struct ReadOnlyGet<'a> {
    #[key]
    key: &'a str,
}

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
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}

fn flush_scripts(connection: &mut redis::Connection) {
    redis::cmd("SCRIPT").arg("FLUSH").exec(connection).unwrap();
}

#[test]
fn plain_pipeline_mixes_scripts_and_commands_typed_and_in_order() {
    let server = server();
    let mut con = connection(&server);
    flush_scripts(&mut con); // nothing cached: EVAL still cannot fail

    let mut pipeline = ScriptPipeline::new();
    let first = pipeline.invoke(&count_call("t", 1));
    let set = pipeline.command::<()>(redis::cmd("SET").arg("name").arg("ada"));
    let second = pipeline.invoke(&count_call("t", 2));
    let name = pipeline.command::<String>(redis::cmd("GET").arg("name"));
    let read = pipeline.invoke(&ReadOnlyGet { key: "name" });
    let third = pipeline.invoke(&count_call("t", 3));
    assert_eq!(pipeline.len(), 6);
    let replies = pipeline.query(&mut con).unwrap();

    assert_eq!(replies.len(), 6);
    assert_eq!(replies.get(first).unwrap(), 1);
    replies.get(set).unwrap();
    assert_eq!(replies.get(second).unwrap(), 2);
    assert_eq!(replies.get(name).unwrap(), "ada");
    assert_eq!(replies.get(read).unwrap().as_deref(), Some("ada"));
    assert_eq!(replies.get(third).unwrap(), 3);
    let log: Vec<u64> = con.lrange("{t}:log", 0, -1).unwrap();
    assert_eq!(log, [1, 2, 3]);

    // The invocations an ordinary command follows go as EVAL (a command cannot wait for a
    // reload); the last two as EVALSHA / EVALSHA_RO, the script the server never saw loaded up
    // front because the two differ (one of them was just cached by an EVAL).
    assert_eq!(command_calls(&mut con, "eval"), 2);
    assert_eq!(command_calls(&mut con, "eval_ro"), 0);
    assert_eq!(command_calls(&mut con, "evalsha"), 1);
    assert_eq!(
        command_calls(&mut con, "evalsha_ro"),
        1,
        "no-writes scripts go as EVALSHA_RO"
    );
    assert!(command_calls(&mut con, "script|load") >= 1);

    // The pipeline can be sent again.
    let replies = pipeline.query(&mut con).unwrap();
    assert_eq!(replies.get(third).unwrap(), 6);
}

#[test]
fn a_failing_invocation_in_a_pipeline_leaves_the_others_and_says_where() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("text", "not a number").unwrap();

    let mut pipeline = ScriptPipeline::new();
    let before = pipeline.invoke(&count_call("t", 1));
    let failed = pipeline.invoke(&Failing {
        key: "text",
        mode: "arithmetic",
    });
    let wrong_type = pipeline.command::<i64>(redis::cmd("INCR").arg("text"));
    let after = pipeline.invoke(&count_call("t", 2));
    let not_a_number = pipeline.command::<i64>(redis::cmd("GET").arg("text"));
    let replies = pipeline.query(&mut con).unwrap();

    assert_eq!(replies.get(before).unwrap(), 1);
    match replies.get(failed) {
        Err(Error::Script(error)) => {
            assert_eq!((error.path(), error.line()), ("lua/failing.lua", 4));
        }
        other => panic!("expected a script error, got {other:?}"),
    }
    assert!(matches!(replies.get(wrong_type), Err(Error::Redis(_))));
    assert_eq!(replies.get(after).unwrap(), 2);
    assert!(matches!(replies.get(not_a_number), Err(Error::Redis(_))));
}

#[test]
fn a_transaction_loads_each_script_once_inside_multi_and_uses_evalsha() {
    let server = server();
    let mut con = connection(&server);
    flush_scripts(&mut con);

    let mut transaction = ScriptTransaction::new();
    let tickets: Vec<_> = (1..=5)
        .map(|id| transaction.invoke(&count_call("t", id)))
        .collect();
    let length = transaction.command::<usize>(redis::cmd("LLEN").arg("{t}:log"));
    let read = transaction.invoke(&ReadOnlyGet { key: "{t}:count" });
    // SCRIPT LOAD x2, 6 invocations, LLEN
    assert_eq!(transaction.as_pipeline().len(), 9);
    assert_eq!(transaction.len(), 7);

    let replies = transaction
        .query(&mut con)
        .unwrap()
        .expect("nothing WATCHed");
    assert_eq!(
        replies.len(),
        7,
        "the SCRIPT LOAD replies are not the caller's"
    );
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(counts, [1, 2, 3, 4, 5]);
    assert_eq!(replies.get(length).unwrap(), 5);
    assert_eq!(replies.get(read).unwrap().as_deref(), Some("5"));

    assert_eq!(command_calls(&mut con, "script|load"), 2);
    assert_eq!(command_calls(&mut con, "evalsha"), 5);
    assert_eq!(command_calls(&mut con, "evalsha_ro"), 1);
    assert_eq!(command_calls(&mut con, "eval"), 0);
    assert_eq!(command_calls(&mut con, "exec"), 1);
}

#[test]
fn a_script_flush_inside_the_transaction_is_followed_by_a_new_load() {
    let server = server();
    let mut con = connection(&server);
    let mut transaction = ScriptTransaction::new();
    let first = transaction.invoke(&count_call("t", 1));
    transaction.command::<()>(redis::cmd("SCRIPT").arg("FLUSH"));
    let second = transaction.invoke(&count_call("t", 2));
    let replies = transaction.query(&mut con).unwrap().unwrap();
    assert_eq!(replies.get(first).unwrap(), 1);
    assert_eq!(replies.get(second).unwrap(), 2);
    assert_eq!(command_calls(&mut con, "script|load"), 2);
}

#[test]
fn a_failed_invocation_inside_exec_behaves_as_redis_defines() {
    let server = server();
    let mut con = connection(&server);
    let _: () = con.set("text", "not a number").unwrap();

    // Errors while EXEC runs: the others still run, the error comes back in its place.
    let mut transaction = ScriptTransaction::new();
    let before = transaction.invoke(&count_call("t", 1));
    let failed = transaction.invoke(&Failing {
        key: "text",
        mode: "error",
    });
    let after = transaction.invoke(&count_call("t", 2));
    let replies = transaction.query(&mut con).unwrap().unwrap();
    assert_eq!(replies.get(before).unwrap(), 1);
    match replies.get(failed) {
        Err(Error::Script(error)) => {
            assert_eq!(error.line(), 6);
            assert!(error.message().contains("custom failure"), "{error}");
        }
        other => panic!("expected a script error, got {other:?}"),
    }
    assert_eq!(replies.get(after).unwrap(), 2);

    // An error while queueing (an unknown command) aborts the whole transaction: nothing runs.
    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&count_call("t", 3));
    transaction.command::<()>(&redis::cmd("NO-SUCH-COMMAND"));
    let error = transaction.query(&mut con).unwrap_err();
    assert!(
        error.to_string().contains("EXECABORT") || error.code() == Some("EXECABORT"),
        "{error}"
    );
    let log: Vec<u64> = con.lrange("{t}:log", 0, -1).unwrap();
    assert_eq!(log, [1, 2], "the aborted transaction ran nothing");
}

/// Entries of one transaction of [`no_rollback_and_no_interleaving_inside_exec`]: `round` tells them apart.
const TRANSACTION_ENTRIES: usize = 600;

#[test]
fn no_rollback_and_no_interleaving_inside_exec() {
    let server = server();
    let mut con = connection(&server);
    // Another client appends to the same list as fast as it can the whole time.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = thread::spawn({
        let mut other = connection(&server);
        let (stop, written) = (stop.clone(), written.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                let _: i64 = other.rpush("{x}:log", "w").unwrap();
                written.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let rounds = 20;
    for round in 0..rounds {
        // Invocations and plain commands alternate; in the middle, a script that writes and
        // then fails.
        let mut transaction = ScriptTransaction::new();
        let mut invocations = Vec::new();
        let mut pushes = Vec::new();
        let mut failed = None;
        for i in 0..TRANSACTION_ENTRIES {
            let entry = format!("{round}:{i}");
            if i == TRANSACTION_ENTRIES / 2 {
                failed = Some(transaction.invoke(&WriteThenFail {
                    list: "{x}:log",
                    entry: &entry,
                }));
            } else if i % 2 == 0 {
                invocations.push(transaction.invoke(&AppendEntry {
                    list: "{x}:log",
                    entry: &entry,
                }));
            } else {
                pushes.push(
                    transaction.command::<i64>(redis::cmd("RPUSH").arg("{x}:log").arg(&entry)),
                );
            }
        }
        let replies = transaction
            .query(&mut con)
            .unwrap()
            .expect("nothing WATCHed");
        match replies.get(failed.unwrap()) {
            Err(Error::Script(error)) => {
                assert_eq!((error.path(), error.line()), ("lua/write_then_fail.lua", 3));
                assert!(error.message().contains("failed after writing"), "{error}");
            }
            other => panic!("expected the script's error, got {other:?}"),
        }
        // Every other invocation and command ran: each returns the list's length, growing.
        let mut lengths: Vec<i64> = invocations
            .iter()
            .map(|&ticket| replies.get(ticket).unwrap())
            .chain(pushes.iter().map(|&ticket| replies.get(ticket).unwrap()))
            .collect();
        assert_eq!(lengths.len(), TRANSACTION_ENTRIES - 1);
        lengths.sort_unstable();
        assert!(
            lengths.windows(2).all(|pair| pair[1] > pair[0]),
            "{lengths:?}"
        );
        // Give the writer room between transactions.
        thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    let log: Vec<String> = con.lrange("{x}:log", 0, -1).unwrap();
    let others = log.iter().filter(|entry| *entry == "w").count() as u64;
    assert_eq!(others, written.load(Ordering::Relaxed));
    let mut blocks_with_writes_around = 0;
    for round in 0..rounds {
        let prefix = format!("{round}:");
        let positions: Vec<usize> = (0..log.len())
            .filter(|&at| log[at].starts_with(&prefix))
            .collect();
        // All entries, the failing script's write included (no rollback), once each, in the
        // order added, with nothing of the other client's between them.
        let expected: Vec<String> = (0..TRANSACTION_ENTRIES)
            .map(|i| format!("{round}:{i}"))
            .collect();
        let found: Vec<&String> = positions.iter().map(|&at| &log[at]).collect();
        assert_eq!(found, expected.iter().collect::<Vec<_>>(), "round {round}");
        let (first, last) = (positions[0], positions[positions.len() - 1]);
        assert_eq!(
            last - first + 1,
            TRANSACTION_ENTRIES,
            "round {round} was interleaved"
        );
        if first > 0 && log[first - 1] == "w" && log.get(last + 1).is_some_and(|e| e == "w") {
            blocks_with_writes_around += 1;
        }
    }
    // The writer really ran alongside: its writes land right before and after most blocks.
    assert!(
        blocks_with_writes_around >= rounds / 2,
        "{blocks_with_writes_around} of {rounds} transactions had the other client's writes \
         right around them"
    );
}

#[test]
fn a_script_load_that_fails_inside_exec_is_returned_in_place_of_its_invocations() {
    let server = server();
    let mut con = connection(&server);
    let mut transaction = ScriptTransaction::new();
    let before = transaction.invoke(&count_call("t", 1));
    let first = transaction.invoke(&Uncompilable { key: "u" });
    let set = transaction.command::<()>(redis::cmd("SET").arg("u:seen").arg("yes"));
    let second = transaction.invoke(&Uncompilable { key: "u" });
    let after = transaction.invoke(&count_call("t", 2));
    // SCRIPT LOAD x2 (CountCall, Uncompilable), 4 invocations, SET
    assert_eq!(transaction.as_pipeline().len(), 7);
    let replies = transaction
        .query(&mut con)
        .unwrap()
        .expect("nothing WATCHed");

    // Not run (`NOSCRIPT` ran nothing), with the load's error, which says why.
    for ticket in [first, second] {
        assert_eq!(replies.outcome(ticket.index()), Some(Outcome::NotRun));
        assert_eq!(replies.ran(ticket.index()), Some(Ran::No));
        let error = replies.get(ticket).expect_err("not run");
        assert_eq!(error.ran(), Ran::No);
        match error {
            Error::NotRun { path, source } => {
                assert_eq!(path, "lua/uncompilable.lua");
                assert!(
                    source.to_string().to_lowercase().contains("compil"),
                    "the compile error, not NOSCRIPT: {source}"
                );
            }
            other => panic!("expected the SCRIPT LOAD's error, got {other:?}"),
        }
    }
    assert_eq!(
        replies.not_run().collect::<Vec<_>>(),
        [first.index(), second.index()]
    );
    assert!(replies.is_atomic());
    // The rest of the transaction ran.
    assert_eq!(replies.get(before).unwrap(), 1);
    replies.get(set).unwrap();
    assert_eq!(replies.get(after).unwrap(), 2);
    let seen: String = con.get("u:seen").unwrap();
    assert_eq!(seen, "yes");
    let key: Option<i64> = con.get("u").unwrap();
    assert_eq!(key, None, "the uncompilable script never ran");
    assert_eq!(command_calls(&mut con, "evalsha"), 4);
}

#[test]
fn a_watched_key_that_changed_aborts_the_transaction_with_none() {
    let server = server();
    let mut con = connection(&server);
    let mut other = connection(&server);
    redis::cmd("WATCH").arg("{t}:count").exec(&mut con).unwrap();
    let _: () = other.set("{t}:count", 100).unwrap();

    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&count_call("t", 1));
    assert!(transaction.query(&mut con).unwrap().is_none());
    let count: i64 = con.get("{t}:count").unwrap();
    assert_eq!(count, 100, "nothing ran");
    let replies = transaction
        .query(&mut con)
        .unwrap()
        .expect("the WATCH is spent");
    assert_eq!(replies.len(), 1);
}

#[tokio::test]
async fn async_pipelines_and_transactions() {
    let server = server();
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut admin = connection(&server);
    flush_scripts(&mut admin);

    let mut pipeline = ScriptPipeline::new();
    let first = pipeline.invoke(&count_call("a", 1));
    let echo = pipeline.command::<String>(redis::cmd("ECHO").arg("hi"));
    let second = pipeline.invoke(&count_call("a", 2));
    let replies = pipeline.query_async(&mut con).await.unwrap();
    assert_eq!(
        (replies.get(first).unwrap(), replies.get(second).unwrap()),
        (1, 2)
    );
    assert_eq!(replies.get(echo).unwrap(), "hi");

    flush_scripts(&mut admin);
    let mut transaction = ScriptTransaction::new();
    let third = transaction.invoke(&count_call("a", 3));
    let length = transaction.command::<usize>(redis::cmd("LLEN").arg("{a}:log"));
    let replies = transaction.query_async(&mut con).await.unwrap().unwrap();
    assert_eq!(replies.get(third).unwrap(), 3);
    assert_eq!(replies.get(length).unwrap(), 3);

    let mut manager = redis::aio::ConnectionManager::new(server.client())
        .await
        .unwrap();
    let replies = pipeline.query_async(&mut manager).await.unwrap();
    assert_eq!(replies.get(second).unwrap(), 5);
}

#[test]
fn pipeline_ext_adds_invocations_to_a_redis_pipeline() {
    let server = server();
    let mut con = connection(&server);
    flush_scripts(&mut con);
    let (first, name, second): (i64, String, i64) = redis::pipe()
        .eval_script(&count_call("p", 1))
        .cmd("SET")
        .arg("name")
        .arg("ada")
        .ignore()
        .cmd("GET")
        .arg("name")
        .eval_script(&count_call("p", 2))
        .query(&mut con)
        .unwrap();
    assert_eq!((first, name.as_str(), second), (1, "ada", 2));

    flush_scripts(&mut con);
    let (third, fourth): (i64, i64) = redis::pipe()
        .atomic()
        .eval_script(&count_call("p", 3))
        .eval_script(&count_call("p", 4))
        .query(&mut con)
        .unwrap();
    assert_eq!((third, fourth), (3, 4));
    assert_eq!(command_calls(&mut con, "evalsha"), 0);
}

#[test]
fn the_slot_guard_refuses_the_whole_pipeline_before_sending_anything() {
    let server = server();
    let mut con = connection(&server);
    // An empty tag: `{}:count` and `{}:log` are hashed whole, into different slots.
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&count_call("t", 1));
    pipeline.invoke(&count_call("", 2));
    assert!(matches!(
        pipeline.query(&mut con),
        Err(Error::CrossSlot { .. })
    ));
    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&count_call("", 3));
    assert!(matches!(
        transaction.query(&mut con),
        Err(Error::CrossSlot { .. })
    ));
    assert_eq!(command_calls(&mut con, "eval"), 0);
    assert_eq!(command_calls(&mut con, "exec"), 0);
    let count: Option<i64> = con.get("{t}:count").unwrap();
    assert_eq!(count, None);
}

#[test]
fn the_registry_lists_loads_and_checks_every_script() {
    let names: Vec<(&str, &str)> = redis_script::scripts()
        .iter()
        .map(|script| (script.name, script.path))
        .collect();
    for expected in [
        ("CountCall", "lua/count_calls.lua"),
        ("Failing", "lua/failing.lua"),
        ("ReadOnlyGet", "lua/read_only_get.lua"),
    ] {
        assert!(names.contains(&expected), "{expected:?} not in {names:?}");
    }
    let count_call = redis_script::scripts()
        .into_iter()
        .find(|script| script.name == "CountCall")
        .unwrap();
    assert_eq!(count_call.sha1, CountCall::SHA1);
    assert_eq!(count_call.source, CountCall::SOURCE);
    assert!(
        redis_script::scripts()
            .iter()
            .any(|s| s.name == "ReadOnlyGet" && s.flags.no_writes)
    );

    let server = server();
    let mut con = connection(&server);
    let distinct = {
        let mut sha1s: Vec<&str> = redis_script::scripts().iter().map(|s| s.sha1).collect();
        sha1s.sort_unstable();
        sha1s.dedup();
        sha1s.len()
    };
    assert_eq!(registry::missing(&mut con).unwrap().len(), distinct);
    assert_eq!(registry::load_all(&mut con).unwrap(), distinct);
    assert!(registry::missing(&mut con).unwrap().is_empty());
    assert_eq!(command_calls(&mut con, "script|load"), distinct as u64);
    flush_scripts(&mut con);
    let missing = registry::missing(&mut con).unwrap();
    assert!(missing.iter().any(|script| script.sha1 == CountCall::SHA1));
}

#[tokio::test]
async fn the_registry_works_on_async_connections() {
    let server = server();
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    assert!(!registry::missing_async(&mut con).await.unwrap().is_empty());
    assert!(registry::load_all_async(&mut con).await.unwrap() > 0);
    assert!(registry::missing_async(&mut con).await.unwrap().is_empty());
}

fn is_cluster_refusal(result: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(&result, Err(error @ Error::ClusterConnection { connection, .. })
        if connection.starts_with("redis::cluster_handling::")
            && error.to_string().contains("ClusterBatch"))
}

#[tokio::test]
async fn cluster_connections_are_refused_and_missing_asks_every_node() {
    let cluster = RedisCluster::start().expect("the tests need redis-server >= 7 (see README)");
    let client = cluster.client().unwrap();
    let mut sync = client.get_connection().unwrap();
    let mut asynchronous = client.get_async_connection().await.unwrap();

    // Pipelines and transactions refuse both cluster connections before sending anything.
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&count_call("c", 1));
    pipeline.command::<()>(redis::cmd("SET").arg("{c}:plain").arg(1));
    let mut transaction = ScriptTransaction::new();
    let counted = transaction.invoke(&count_call("c", 2));
    transaction.command::<()>(redis::cmd("SET").arg("{c}:plain").arg(2));
    assert!(is_cluster_refusal(pipeline.query(&mut sync)));
    assert!(is_cluster_refusal(transaction.query(&mut sync)));
    assert!(is_cluster_refusal(
        pipeline.query_async(&mut asynchronous).await
    ));
    assert!(is_cluster_refusal(
        transaction.query_async(&mut asynchronous).await
    ));
    assert!(is_cluster_refusal(ScriptPipeline::new().query(&mut sync)));
    for key in ["{c}:count", "{c}:plain"] {
        let value: Option<i64> = sync.get(key).unwrap();
        assert_eq!(value, None, "{key}: nothing was sent");
    }
    // A direct connection to the node that owns the slot is not a cluster connection.
    let owner = cluster
        .node_for_slot(redis_script_analysis::hash_slot(b"{c}"))
        .unwrap();
    let replies = transaction
        .query(&mut owner.connection().unwrap())
        .unwrap()
        .expect("nothing WATCHed");
    assert_eq!(replies.get(counted).unwrap(), 1);

    // `missing_cluster` asks every node, replicas included.
    let distinct = {
        let mut sha1s: Vec<&str> = redis_script::scripts().iter().map(|s| s.sha1).collect();
        sha1s.sort_unstable();
        sha1s.dedup();
        sha1s.len()
    };
    let loads = registry::load_all_cluster(&mut sync).unwrap();
    assert_eq!(loads.len(), 6);
    assert!(loads.iter().all(|node| node.is_loaded()), "{loads:?}");
    let nodes = registry::missing_cluster(&mut sync).unwrap();
    assert_eq!(nodes.len(), 6);
    assert_eq!(nodes.iter().filter(|node| !node.primary).count(), 3);
    assert!(nodes.iter().all(|node| node.has_all()), "{nodes:?}");

    let replica = cluster.replicas()[0];
    flush_scripts(&mut replica.connection().unwrap());
    let replica_address = format!(":{}", replica.port());
    let check = |nodes: Vec<registry::NodeMissing>| {
        assert_eq!(nodes.len(), 6);
        for node in nodes {
            if node.address.ends_with(&replica_address) {
                assert!(!node.primary);
                let missing = node.result.as_ref().expect("the replica answers");
                assert_eq!(missing.len(), distinct, "{}", node.address);
                assert!(missing.iter().any(|script| script.sha1 == CountCall::SHA1));
            } else {
                assert!(node.has_all(), "{node:?}");
            }
        }
    };
    check(registry::missing_cluster(&mut sync).unwrap());
    check(
        registry::missing_cluster_async(&mut asynchronous)
            .await
            .unwrap(),
    );
    // What `missing` on the cluster connection says: the primaries have everything.
    assert!(registry::missing(&mut sync).unwrap().is_empty());
}

/// A field of `INFO <section>` (0 when absent).
fn info_field(connection: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg(section).query(connection).unwrap();
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |value| value.trim().parse().unwrap())
}

/// Resets `INFO commandstats` and the byte counters, so a test can count what it sends.
fn reset_stats(connection: &mut redis::Connection) {
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .exec(connection)
        .unwrap();
}

/// What the recovery of plain pipelines relies on, checked on the real server: an `EVALSHA`
/// answered `NOSCRIPT` in the middle of a pipeline runs nothing, and the commands after it
/// still run.
#[test]
fn noscript_in_the_middle_of_a_plain_pipeline_skips_that_entry_only() {
    let server = server();
    let mut con = connection(&server);
    flush_scripts(&mut con);
    let replies: Vec<redis::Value> = redis::pipe()
        .add_command(count_call("mid", 1).evalsha_command())
        .cmd("RPUSH")
        .arg("{mid}:log")
        .arg("command")
        .add_command(count_call("mid", 2).evalsha_command())
        .ignore_errors()
        .query(&mut con)
        .unwrap();
    let noscript = |value: &redis::Value| matches!(value, redis::Value::ServerError(error) if error.code() == "NOSCRIPT");
    assert!(
        noscript(&replies[0]) && noscript(&replies[2]),
        "{replies:?}"
    );
    assert_eq!(replies[1], redis::Value::Int(1));
    let log: Vec<String> = con.lrange("{mid}:log", 0, -1).unwrap();
    assert_eq!(log, ["command"], "neither invocation ran, the command did");
    let count: Option<i64> = con.get("{mid}:count").unwrap();
    assert_eq!(count, None);
}

/// After a flush, a pipeline of `EVALSHA`s fails from the first entry on; all of them form the
/// trailing run, which goes again after one `SCRIPT LOAD`: each runs once, in order, and the
/// 25 KB source crosses the wire once for the whole pipeline.
#[test]
fn a_pipeline_after_a_flush_loads_once_and_runs_each_invocation_once_in_order() {
    let server = server();
    let mut con = connection(&server);
    let mut stats = connection(&server);
    flush_scripts(&mut con);
    reset_stats(&mut stats);

    let mut pipeline = ScriptPipeline::new();
    let tickets: Vec<_> = (1..=20)
        .map(|id| pipeline.invoke(&count_call_large("big", id)))
        .collect();
    let replies = pipeline.query(&mut con).unwrap();
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>());
    assert_eq!(replies.not_run().count(), 0);
    let log: Vec<u64> = con.lrange("{big}:log", 0, -1).unwrap();
    assert_eq!(log, (1..=20).collect::<Vec<_>>());

    assert_eq!(command_calls(&mut stats, "script|load"), 1);
    assert_eq!(command_calls(&mut stats, "eval"), 0);
    assert_eq!(
        command_calls(&mut stats, "evalsha"),
        40,
        "20 NOSCRIPT, 20 ran"
    );
    let bytes = info_field(&mut stats, "stats", "total_net_input_bytes");
    let source = CountCallLarge::SOURCE.len() as u64;
    assert!(
        bytes > source && bytes < source + 10_000,
        "{bytes} bytes for a {source}-byte source"
    );

    // Cached now: only the SHA1s go.
    reset_stats(&mut stats);
    let replies = pipeline.query(&mut con).unwrap();
    assert_eq!(replies.get(tickets[19]).unwrap(), 40);
    assert_eq!(command_calls(&mut stats, "evalsha"), 20);
    assert!(info_field(&mut stats, "stats", "total_net_input_bytes") < 5_000);
}

/// Two scripts, one cached and one not (a server this process never loaded the second on, yet
/// it knows it from another): the missing one's invocation fails before the other runs, so it
/// cannot run now without coming after it. It is reported as not run, nothing else is touched,
/// and the next pipeline loads it up front.
#[test]
fn a_noscript_before_an_invocation_that_ran_is_reported_not_run_and_not_resent() {
    let first = server();
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&AppendEntry {
        list: "warm",
        entry: "x",
    });
    pipeline.invoke(&count_call_large("warm", 1));
    let replies = pipeline.query(&mut connection(&first)).unwrap();
    assert_eq!(
        replies.not_run().count(),
        0,
        "both loaded up front, both ran"
    );

    let second = server();
    let mut con = connection(&second);
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(CountCallLarge::SOURCE)
        .exec(&mut con)
        .unwrap();
    let mut pipeline = ScriptPipeline::new();
    let append = pipeline.invoke(&AppendEntry {
        list: "{nr}:list",
        entry: "a",
    });
    let count = pipeline.invoke(&count_call_large("nr", 1));
    let replies = pipeline.query(&mut con).unwrap();
    match replies.get(append) {
        Err(Error::NotRun { path, source }) => {
            assert_eq!(path, "lua/append_id.lua");
            assert_eq!(source.code(), Some("NOSCRIPT"));
        }
        other => panic!("expected Error::NotRun, got {other:?}"),
    }
    assert_eq!(replies.get(count).unwrap(), 1);
    assert_eq!(replies.not_run().collect::<Vec<_>>(), [0]);
    let list: Vec<String> = con.lrange("{nr}:list", 0, -1).unwrap();
    assert!(list.is_empty(), "it did not run, and was not sent again");

    // Sent again: the process forgot it had loaded that script, so it goes up front now.
    let replies = pipeline.query(&mut con).unwrap();
    assert_eq!(replies.get(append).unwrap(), 1);
    assert_eq!(replies.get(count).unwrap(), 2);
    assert_eq!(replies.not_run().count(), 0);
}

/// 50 tasks on one multiplexed connection hit `NOSCRIPT` together after a flush: one of them
/// loads, the others wait for it and send `EVALSHA` again. The source crosses the wire once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_tasks_that_hit_noscript_together_share_one_load() {
    let server = server();
    let connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut stats = server.connection().unwrap();
    for round in 1..=3u64 {
        flush_scripts(&mut stats);
        reset_stats(&mut stats);
        let tasks: Vec<_> = (0..50u64)
            .map(|id| {
                let mut connection = connection.clone();
                tokio::spawn(async move {
                    count_call_large("storm", id)
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
        let first = (round as i64 - 1) * 50 + 1;
        assert_eq!(counts, (first..first + 50).collect::<Vec<_>>());

        let loads = command_calls(&mut stats, "script|load");
        let evals = command_calls(&mut stats, "eval");
        let evalshas = command_calls(&mut stats, "evalsha");
        let bytes = info_field(&mut stats, "stats", "total_net_input_bytes");
        let source = CountCallLarge::SOURCE.len() as u64;
        println!(
            "round {round}: {loads} SCRIPT LOAD, {evals} EVAL, {evalshas} EVALSHA, {bytes} bytes"
        );
        assert_eq!((loads, evals), (1, 0), "one load for 50 tasks");
        assert!((51..=100).contains(&evalshas), "{evalshas}");
        assert!(
            bytes > source && bytes < source + 20_000,
            "{bytes} bytes: the {source}-byte source went more than once"
        );
    }
}

/// `PipelineExt::evalsha_script` + `query_scripts`: only SHA1s on the wire, recovered after a
/// flush, plain (with `ignore()`) and atomic (a `SCRIPT LOAD` inside `MULTI`).
#[tokio::test]
async fn pipeline_ext_evalsha_recovers_plain_and_atomic_pipelines() {
    let server = server();
    let mut con = connection(&server);
    let mut stats = connection(&server);
    flush_scripts(&mut con);
    reset_stats(&mut stats);
    let (first, second, third): (i64, i64, i64) = redis::pipe()
        .cmd("SET")
        .arg("{ext}:name")
        .arg("ada")
        .ignore()
        .evalsha_script(&count_call_large("ext", 1))
        .evalsha_script(&count_call_large("ext", 2))
        .evalsha_script(&count_call_large("ext", 3))
        .query_scripts(&mut con)
        .unwrap();
    assert_eq!((first, second, third), (1, 2, 3));
    assert_eq!(command_calls(&mut stats, "script|load"), 1);
    assert_eq!(command_calls(&mut stats, "eval"), 0);
    assert_eq!(command_calls(&mut stats, "evalsha"), 6);

    flush_scripts(&mut con);
    reset_stats(&mut stats);
    let counts: Vec<i64> = redis::pipe()
        .atomic()
        .evalsha_script(&count_call_large("ext", 4))
        .cmd("LLEN")
        .arg("{ext}:log")
        .evalsha_script(&count_call_large("ext", 5))
        .query_scripts(&mut con)
        .unwrap();
    assert_eq!(counts, [4, 4, 5]);
    assert_eq!(command_calls(&mut stats, "script|load"), 1);
    assert_eq!(command_calls(&mut stats, "evalsha"), 2);

    let mut async_con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    flush_scripts(&mut con);
    let counts: Vec<i64> = redis::pipe()
        .evalsha_script(&count_call_large("ext", 6))
        .evalsha_script(&count_call_large("ext", 7))
        .query_scripts_async(&mut async_con)
        .await
        .unwrap();
    assert_eq!(counts, [6, 7]);
    let log: Vec<u64> = con.lrange("{ext}:log", 0, -1).unwrap();
    assert_eq!(log, (1..=7).collect::<Vec<_>>());
}
