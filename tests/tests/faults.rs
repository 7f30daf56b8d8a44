//! Faults against real servers: replies the `redis` crate cannot read, refusals for `BUSY` and
//! `OOM` in transactions, and the out-of-memory refusal of every kind of script. Each test
//! counts what ran on the server, so that "did not run" is checked, not assumed.

use std::time::{Duration, Instant};

use redis::Commands;
use redis_script::{
    Error, Ran, RedisFunction, RedisScript, Script, ScriptPipeline, ScriptTransaction,
};
use throwaway_redis::RedisServer;

/// Counts its runs in `runs`, then answers the error reply `message` (bytes, not UTF-8).
#[derive(RedisScript)]
#[redis_script(path = "lua/faults/unreadable.lua", returns = i64)]
struct Unreadable<'a> {
    #[key]
    runs: &'a str,
    #[arg]
    message: &'a [u8],
}

/// Counts its runs in `runs`, then raises `error('bad key ' .. suffix)`.
#[derive(RedisScript)]
#[redis_script(path = "lua/faults/raise_bytes.lua", returns = i64)]
struct RaiseBytes<'a> {
    #[key]
    runs: &'a str,
    #[arg]
    suffix: &'a [u8],
}

/// Counts its runs in `runs`; no `#!` line.
#[derive(RedisScript)]
#[redis_script(path = "lua/faults/counted.lua", returns = i64)]
struct Counted<'a> {
    #[key]
    runs: &'a str,
}

/// Counts its runs in `runs`; a `#!lua` line without flags.
#[derive(RedisScript)]
#[redis_script(path = "lua/faults/counted_shebang.lua", returns = i64)]
struct CountedShebang<'a> {
    #[key]
    runs: &'a str,
}

/// Counts its calls in `runs`: a function (no flags, so Redis checks memory before it runs).
#[derive(RedisFunction)]
#[redis_function(library = "lua/faults/library.lua", function = "faults_count", returns = i64)]
struct CountCall<'a> {
    #[key]
    runs: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/spin.lua", returns = i64)]
struct Spin {
    #[arg]
    iterations: u64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/faults/own_noscript.lua", returns = i64)]
struct OwnNoscript<'a> {
    #[key]
    runs: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/ping.lua", returns = String)]
struct Ping;

/// An error reply whose text is not UTF-8: valid RESP, unreadable for the `redis` crate.
const BAD: &[u8] = b"ERR bad \xff key";

/// A server with this file's scripts loaded: every invocation then runs at once, without the
/// `NOSCRIPT` round trip (whose reload would be what meets the unreadable reply), whatever
/// other tests of the process loaded elsewhere.
fn server() -> RedisServer {
    let server = RedisServer::start().expect("start redis-server");
    let mut con = connection(&server);
    for source in [
        Unreadable::SOURCE,
        RaiseBytes::SOURCE,
        Counted::SOURCE,
        CountedShebang::SOURCE,
    ] {
        let _: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(source)
            .query(&mut con)
            .expect("SCRIPT LOAD");
    }
    server
}

fn connection(server: &RedisServer) -> redis::Connection {
    server.connection().expect("connect to redis-server")
}

/// How many times the scripts counting in `key` ran, read on a connection of its own.
fn runs(server: &RedisServer, key: &str) -> i64 {
    let mut admin = connection(server);
    let runs: Option<i64> = admin.get(key).expect("GET");
    runs.unwrap_or(0)
}

fn assert_unreadable(error: &Error, path: Option<&str>) {
    match error {
        Error::ReplyUnreadable { path: got, source } => {
            assert_eq!(*got, path, "{error}");
            assert_eq!(source.kind(), redis::ErrorKind::Parse, "{error}");
        }
        other => panic!("expected Error::ReplyUnreadable, got {other:?}"),
    }
    assert_eq!(error.ran(), Ran::Maybe, "{error}");
    assert!(error.to_string().contains("may have run"), "{error}");
}

#[test]
fn an_unreadable_reply_reports_maybe_and_closes_the_sync_connection() {
    let server = server();
    let mut con = connection(&server);
    let error = Unreadable {
        runs: "runs",
        message: BAD,
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_unreadable(&error, Some("lua/faults/unreadable.lua"));
    assert_eq!(runs(&server, "runs"), 1, "the script ran");

    // The connection is closed: nothing sent on it runs any more, and each call says it may
    // have run (never that it did not).
    for _ in 0..3 {
        let later = Counted { runs: "later" }.invoke(&mut con).unwrap_err();
        assert_ne!(later.ran(), Ran::No, "{later:?}");
        assert_ne!(later.ran(), Ran::Yes, "{later:?}");
    }
    let ping: redis::RedisResult<String> = redis::cmd("PING").query(&mut con);
    assert!(ping.is_err(), "{ping:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        runs(&server, "later"),
        0,
        "nothing ran after the unreadable reply"
    );

    // A Lua error() quoting the bytes is just as unreadable.
    let mut con = connection(&server);
    let error = RaiseBytes {
        runs: "raised",
        suffix: b"\xfe\xff",
    }
    .invoke(&mut con)
    .unwrap_err();
    assert_unreadable(&error, Some("lua/faults/raise_bytes.lua"));
    assert_eq!(runs(&server, "raised"), 1);
    assert!(Counted { runs: "later" }.invoke(&mut con).is_err());
    assert_eq!(runs(&server, "later"), 0);

    // A new connection works.
    let mut con = connection(&server);
    assert_eq!(Counted { runs: "later" }.invoke(&mut con).unwrap(), 1);
}

#[test]
fn an_unreadable_reply_in_a_pipeline_or_transaction_reports_maybe_and_closes() {
    let server = server();
    let mut con = connection(&server);
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&Counted { runs: "before" });
    pipeline.invoke(&Unreadable {
        runs: "runs",
        message: BAD,
    });
    pipeline.invoke(&Counted { runs: "after" });
    let error = pipeline.query(&mut con).unwrap_err();
    // A plain pipeline is cut by it as by a broken connection: per entry, what is known. One
    // chunk, read in one call: every entry is unknown.
    let Error::Interrupted { replies, source } = &error else {
        panic!("expected Error::Interrupted, got {error:?}");
    };
    assert_eq!(source.kind(), redis::ErrorKind::Parse, "{error}");
    assert_eq!(error.ran(), Ran::Maybe, "{error}");
    assert!(error.to_string().contains("could not be read"), "{error}");
    assert_eq!(replies.unknown().count(), 3, "{error}");
    assert_eq!(
        (
            runs(&server, "before"),
            runs(&server, "runs"),
            runs(&server, "after")
        ),
        (1, 1, 1),
        "every entry ran, the one after the unreadable reply included"
    );
    let mut again = ScriptPipeline::new();
    again.invoke(&Counted { runs: "later" });
    let later = again.query(&mut con).unwrap_err();
    assert_ne!(later.ran(), Ran::No, "{later:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(runs(&server, "later"), 0);

    let mut con = connection(&server);
    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&Counted { runs: "in_exec" });
    transaction.invoke(&Unreadable {
        runs: "runs",
        message: BAD,
    });
    let error = transaction.query(&mut con).unwrap_err();
    assert_unreadable(&error, None);
    assert_eq!(runs(&server, "in_exec"), 1, "EXEC ran the transaction");
    assert_eq!(runs(&server, "runs"), 2);
    assert!(Counted { runs: "later" }.invoke(&mut con).is_err());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(runs(&server, "later"), 0);
}

/// What the `redis` crate's multiplexed connection does after an unreadable reply: it closes
/// itself, so later calls fail without running.
#[tokio::test]
async fn an_unreadable_reply_closes_a_multiplexed_connection() {
    let server = server();
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let error = Unreadable {
        runs: "runs",
        message: BAD,
    }
    .invoke_async(&mut con)
    .await
    .unwrap_err();
    assert_unreadable(&error, Some("lua/faults/unreadable.lua"));
    assert_eq!(runs(&server, "runs"), 1);
    let later = Counted { runs: "later" }
        .invoke_async(&mut con)
        .await
        .unwrap_err();
    assert!(later.is_io_error(), "{later:?}");
    assert_eq!(later.ran(), Ran::Maybe, "{later:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(runs(&server, "later"), 0);

    // A pipeline in flight when the connection closes itself gets an I/O error, not the parse
    // error: the `redis` crate drops the replies it had gathered. Every entry ran.
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&Counted { runs: "before" });
    pipeline.invoke(&Unreadable {
        runs: "runs",
        message: BAD,
    });
    pipeline.invoke(&Counted { runs: "after" });
    let error = pipeline.query_async(&mut con).await.unwrap_err();
    assert!(error.is_io_error(), "{error:?}");
    assert_eq!(error.ran(), Ran::Maybe);
    assert_eq!(
        (
            runs(&server, "before"),
            runs(&server, "runs"),
            runs(&server, "after")
        ),
        (1, 2, 1)
    );
}

/// A `ConnectionManager` reconnects after an unreadable reply: the next call goes out on a new
/// connection, in step, and runs once.
#[tokio::test]
async fn a_connection_manager_reconnects_after_an_unreadable_reply() {
    let server = server();
    let mut manager = redis::aio::ConnectionManager::new(server.client())
        .await
        .unwrap();
    let error = Unreadable {
        runs: "runs",
        message: BAD,
    }
    .invoke_async(&mut manager)
    .await
    .unwrap_err();
    assert_unreadable(&error, Some("lua/faults/unreadable.lua"));
    assert_eq!(runs(&server, "runs"), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    let count = loop {
        match (Counted { runs: "later" }).invoke_async(&mut manager).await {
            Ok(count) => break count,
            Err(error) if Instant::now() < deadline => {
                // A call that meets the reconnection fails without running.
                assert_ne!(error.ran(), Ran::No, "{error:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("the manager did not reconnect: {error:?}"),
        }
    };
    assert_eq!(
        count,
        runs(&server, "later"),
        "the value matches the server"
    );
    assert_eq!(
        runs(&server, "runs"),
        1,
        "the failed call was not sent again"
    );
}

/// Waits until `con`'s server refuses scripts with `BUSY` (another client's script spins).
fn wait_until_busy(con: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Ping.invoke(con) {
            Err(Error::Busy { .. }) => return,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => panic!("expected BUSY while the other script spins, got {other:?}"),
        }
    }
}

#[test]
fn a_transaction_refused_as_busy_reports_busy_with_the_callers_ticket() {
    let server = RedisServer::start_with(&[("busy-reply-threshold", "50")]).unwrap();
    let mut runner = connection(&server);
    let spinning = std::thread::spawn(move || {
        Spin {
            iterations: 20_000_000_000,
        }
        .invoke(&mut runner)
    });
    let mut con = connection(&server);
    wait_until_busy(&mut con);

    // Sent after MULTI: SCRIPT LOAD, EVALSHA, SET, EVALSHA. The server refuses every one; the
    // first, the SCRIPT LOAD, stands for ticket 0.
    let mut transaction = ScriptTransaction::new();
    let first = transaction.invoke(&Counted { runs: "t" });
    transaction.command::<()>(redis::cmd("SET").arg("u").arg(1));
    transaction.invoke(&Counted { runs: "t" });
    let error = transaction.query(&mut con).unwrap_err();
    let Error::Busy { path, ticket, .. } = &error else {
        panic!("expected Error::Busy, got {error:?}");
    };
    assert_eq!(
        (*path, *ticket),
        ("lua/faults/counted.lua", Some(first.index()))
    );
    assert_eq!(error.ran(), Ran::No);
    assert_eq!(error.code(), Some("BUSY"));

    // A command first: the caller's first refused invocation is ticket 1.
    let mut transaction = ScriptTransaction::new();
    transaction.command::<()>(redis::cmd("SET").arg("u").arg(1));
    let invocation = transaction.invoke(&CountedShebang { runs: "t" });
    let error = transaction.query(&mut con).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Busy {
                path: "lua/faults/counted_shebang.lua",
                ticket: Some(1),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(invocation.index(), 1);
    assert_eq!(error.ran(), Ran::No);

    let killed: redis::RedisResult<()> = redis::cmd("SCRIPT").arg("KILL").query(&mut con);
    assert!(killed.is_ok(), "{killed:?}");
    assert!(spinning.join().unwrap().is_err());
    let mut admin = connection(&server);
    let (t, u): (Option<i64>, Option<i64>) =
        redis::pipe().get("t").get("u").query(&mut admin).unwrap();
    assert_eq!(
        (t, u),
        (None, None),
        "nothing of the refused transactions ran"
    );
}

#[tokio::test]
async fn an_async_transaction_refused_as_busy_reports_busy() {
    let server = RedisServer::start_with(&[("busy-reply-threshold", "50")]).unwrap();
    let mut runner = connection(&server);
    let spinning = std::thread::spawn(move || {
        Spin {
            iterations: 20_000_000_000,
        }
        .invoke(&mut runner)
    });
    let mut sync = connection(&server);
    wait_until_busy(&mut sync);
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut transaction = ScriptTransaction::new();
    transaction.command::<()>(redis::cmd("SET").arg("u").arg(1));
    transaction.invoke(&Counted { runs: "t" });
    let error = transaction.query_async(&mut con).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Busy {
                path: "lua/faults/counted.lua",
                ticket: Some(1),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.ran(), Ran::No);
    let killed: redis::RedisResult<()> = redis::cmd("SCRIPT").arg("KILL").query(&mut sync);
    assert!(killed.is_ok(), "{killed:?}");
    assert!(spinning.join().unwrap().is_err());
    assert_eq!((runs(&server, "t"), runs(&server, "u")), (0, 0));
}

fn set_maxmemory(con: &mut redis::Connection, bytes: &str) {
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(bytes)
        .query(con)
        .expect("CONFIG SET maxmemory");
}

fn assert_out_of_memory(error: &Error, expected_path: &str, expected_ticket: Option<usize>) {
    let Error::OutOfMemory { path, ticket, .. } = error else {
        panic!("expected Error::OutOfMemory, got {error:?}");
    };
    assert_eq!(
        (*path, *ticket),
        (expected_path, expected_ticket),
        "{error}"
    );
    assert_eq!(error.ran(), Ran::No, "{error}");
    assert_eq!(error.code(), Some("OOM"), "{error}");
}

#[test]
fn out_of_memory_is_one_variant_that_wrote_nothing() {
    let server = server();
    let mut con = connection(&server);
    // Loaded and run once while memory is free: the scripts are cached, the library loaded.
    assert_eq!(Counted { runs: "plain" }.invoke(&mut con).unwrap(), 1);
    assert_eq!(
        CountedShebang { runs: "shebang" }.invoke(&mut con).unwrap(),
        1
    );
    assert_eq!(CountCall { runs: "function" }.invoke(&mut con).unwrap(), 1);
    set_maxmemory(&mut con, "1");

    // Without a #! line, Redis refuses at the script's first write (an error raised inside it);
    // with one, and for a function, before running it. One variant for all three.
    let plain = Counted { runs: "plain" }.invoke(&mut con).unwrap_err();
    assert_out_of_memory(&plain, "lua/faults/counted.lua", None);
    let shebang = CountedShebang { runs: "shebang" }
        .invoke(&mut con)
        .unwrap_err();
    assert_out_of_memory(&shebang, "lua/faults/counted_shebang.lua", None);
    let function = CountCall { runs: "function" }.invoke(&mut con).unwrap_err();
    assert_out_of_memory(&function, "lua/faults/library.lua", None);

    // In a plain pipeline, each entry.
    let mut pipeline = ScriptPipeline::new();
    let plain = pipeline.invoke(&Counted { runs: "plain" });
    let shebang = pipeline.invoke(&CountedShebang { runs: "shebang" });
    let function = pipeline.invoke_function(&CountCall { runs: "function" });
    let replies = pipeline.query(&mut con).unwrap();
    assert_out_of_memory(
        &replies.get(plain).unwrap_err(),
        "lua/faults/counted.lua",
        None,
    );
    assert_out_of_memory(
        &replies.get(shebang).unwrap_err(),
        "lua/faults/counted_shebang.lua",
        None,
    );
    assert_out_of_memory(
        &replies.get(function).unwrap_err(),
        "lua/faults/library.lua",
        None,
    );

    // A transaction is refused whole, in the name of the caller's first invocation.
    let mut transaction = ScriptTransaction::new();
    transaction.command::<()>(redis::cmd("SET").arg("command").arg(1));
    transaction.invoke_function(&CountCall { runs: "function" });
    transaction.invoke(&Counted { runs: "plain" });
    let error = transaction.query(&mut con).unwrap_err();
    assert_out_of_memory(&error, "lua/faults/library.lua", Some(1));

    set_maxmemory(&mut con, "0");
    let mut admin = connection(&server);
    let counts: (i64, i64, i64, Option<i64>) = redis::pipe()
        .get("plain")
        .get("shebang")
        .get("function")
        .get("command")
        .query(&mut admin)
        .unwrap();
    assert_eq!(
        counts,
        (1, 1, 1, None),
        "no refused invocation wrote anything"
    );
}

#[tokio::test]
async fn out_of_memory_async_and_a_function_that_must_be_loaded() {
    let server = server();
    let mut sync = connection(&server);
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    assert_eq!(
        Counted { runs: "plain" }
            .invoke_async(&mut con)
            .await
            .unwrap(),
        1
    );
    set_maxmemory(&mut sync, "1");
    let plain = Counted { runs: "plain" }
        .invoke_async(&mut con)
        .await
        .unwrap_err();
    assert_out_of_memory(&plain, "lua/faults/counted.lua", None);
    // The library is not loaded: the call's reload (MULTI, FUNCTION LOAD, FCALL, EXEC) is
    // refused whole, reported as the call alone would be.
    let function = CountCall { runs: "function" }
        .invoke_async(&mut con)
        .await
        .unwrap_err();
    assert_out_of_memory(&function, "lua/faults/library.lua", None);
    let function = CountCall { runs: "function" }
        .invoke(&mut sync)
        .unwrap_err();
    assert_out_of_memory(&function, "lua/faults/library.lua", None);
    set_maxmemory(&mut sync, "0");
    assert_eq!((runs(&server, "plain"), runs(&server, "function")), (1, 0));
}

/// A script's own error reply with a refusal's code but other words ran: it is not taken for
/// the server's refusal.
#[test]
fn a_scripts_own_busy_or_oom_reply_is_not_a_refusal() {
    let server = server();
    let mut con = connection(&server);
    for message in [&b"OOM not really"[..], b"BUSY doing my own thing"] {
        let error = Unreadable {
            runs: "runs",
            message,
        }
        .invoke(&mut con)
        .unwrap_err();
        assert!(matches!(error, Error::Redis(_)), "{error:?}");
        assert_ne!(error.ran(), Ran::No, "{error:?}");
    }
    assert_eq!(runs(&server, "runs"), 2);
}

/// A `ClusterBatch` treats an unreadable reply like a broken connection: the entries of that
/// node's pipeline may have run (they did) and are not sent again, the other nodes' replies
/// are kept, and the node is connected again for the next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_batch_treats_an_unreadable_reply_as_a_broken_connection() {
    use redis_script::batch::{ClusterBatch, ClusterNodes};

    let cluster = tokio::task::spawn_blocking(throwaway_redis::RedisCluster::start)
        .await
        .unwrap()
        .expect("the cluster");
    let mut nodes = ClusterNodes::connect(cluster.urls()[0].as_str())
        .await
        .unwrap();
    let primary = |tag: &str| {
        nodes
            .slot_map()
            .primary(redis_script_analysis::hash_slot(tag.as_bytes()))
    };
    let bad_tag = "a";
    let other_tag = ["b", "c", "d", "e", "f", "g", "h"]
        .into_iter()
        .find(|tag| primary(tag) != primary(bad_tag))
        .expect("a tag on another primary");
    let key = |tag: &str, name: &str| format!("{{{tag}}}:{name}");
    let (before, bad, other) = (
        key(bad_tag, "before"),
        key(bad_tag, "runs"),
        key(other_tag, "other"),
    );

    let mut batch = ClusterBatch::new();
    let before_ticket = batch.invoke(&Counted { runs: &before });
    let bad_ticket = batch.invoke(&Unreadable {
        runs: &bad,
        message: BAD,
    });
    let other_ticket = batch.invoke(&Counted { runs: &other });
    let replies = batch.run_async(&mut nodes).await.expect("the batch");
    for ticket in [before_ticket, bad_ticket] {
        let error = replies.get(ticket).unwrap_err();
        // The multiplexed connection closed itself with the pipeline in flight.
        assert!(error.is_io_error(), "{error:?}");
        assert_eq!(error.ran(), Ran::Maybe, "{error:?}");
    }
    assert_eq!(
        replies.get(other_ticket).unwrap(),
        1,
        "the other node's reply"
    );

    let count = |key: &str| {
        let slot = redis_script_analysis::hash_slot(key.as_bytes());
        let mut node = cluster.node_for_slot(slot).unwrap().connection().unwrap();
        let count: Option<i64> = node.get(key).unwrap();
        count.unwrap_or(0)
    };
    assert_eq!(
        (count(&before), count(&bad), count(&other)),
        (1, 1, 1),
        "each ran once: nothing was sent again"
    );

    // The node is connected again: the next batch runs there, in step.
    let mut batch = ClusterBatch::new();
    let later = batch.invoke(&Counted { runs: &before });
    let replies = batch.run_async(&mut nodes).await.expect("the next batch");
    assert_eq!(replies.get(later).unwrap(), 2);
    assert_eq!(count(&bad), 1);

    // The `redis` crate's own cluster connection reconnects after a parse error and sends the
    // command again (redis 1.8): with its default retries the script runs more than once, with
    // `retries(0)` once. Both report the last parse error as "may have run".
    let default = cluster.client().unwrap();
    let retried = key("r", "runs");
    let error = invoke_unreadable(&default, &retried).await;
    assert_eq!(error.ran(), Ran::Maybe, "{error:?}");
    assert!(count(&retried) > 1, "ran {} times", count(&retried));
    let once = redis::cluster::ClusterClientBuilder::new(cluster.urls())
        .retries(0)
        .build()
        .unwrap();
    let single = key("s", "runs");
    let error = invoke_unreadable(&once, &single).await;
    assert_eq!(error.ran(), Ran::Maybe, "{error:?}");
    assert_eq!(count(&single), 1);
}

/// The error of one invocation of the script with the unreadable reply, counting in `runs`, on
/// a new async connection of `client`.
async fn invoke_unreadable(client: &redis::cluster::ClusterClient, runs: &str) -> Error {
    let mut connection = client.get_async_connection().await.unwrap();
    Unreadable { runs, message: BAD }
        .invoke_async(&mut connection)
        .await
        .unwrap_err()
}

/// A command refused while queueing (here a wrong number of arguments) discards the whole
/// transaction: one variant, `Ran::No`, naming the caller's ticket although `SCRIPT LOAD`s
/// were sent in front of it.
#[test]
fn a_transaction_discarded_for_a_refused_command_names_the_callers_ticket() {
    let server = server();
    let mut con = connection(&server);
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut con).unwrap();
    // Sent after MULTI: SCRIPT LOAD, EVALSHA, SCRIPT LOAD, EVALSHA, GET (refused), SET.
    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&Counted { runs: "d" });
    transaction.invoke(&CountedShebang { runs: "d" });
    let refused = transaction.command::<()>(redis::cmd("GET"));
    transaction.command::<()>(redis::cmd("SET").arg("e").arg(1));
    let error = transaction.query(&mut con).unwrap_err();
    let Error::TransactionDiscarded { ticket, reason, .. } = &error else {
        panic!("expected Error::TransactionDiscarded, got {error:?}");
    };
    assert_eq!(*ticket, Some(refused.index()));
    assert_eq!(refused.index(), 2);
    assert!(reason.contains("wrong number of arguments"), "{reason}");
    assert_eq!(error.ran(), Ran::No);
    assert!(error.to_string().contains("entry 2"), "{error}");
    let (d, e): (Option<i64>, Option<i64>) =
        redis::pipe().get("d").get("e").query(&mut con).unwrap();
    assert_eq!((d, e), (None, None), "nothing of the transaction ran");
}

/// A script that answers `NOSCRIPT` in its own words ran: it is neither reloaded and sent
/// again (which would run it twice) nor reported as not run, alone or in a pipeline.
#[test]
fn a_scripts_own_noscript_reply_is_not_sent_again() {
    let server = server();
    let mut con = connection(&server);
    let error = OwnNoscript { runs: "own:single" }
        .invoke(&mut con)
        .unwrap_err();
    assert_eq!(error.code(), Some("NOSCRIPT"), "{error}");
    assert_ne!(error.ran(), Ran::No, "{error}");
    assert_eq!(runs(&server, "own:single"), 1);

    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&Counted {
        runs: "own:counted",
    });
    let own = pipeline.invoke(&OwnNoscript {
        runs: "own:pipeline",
    });
    let replies = pipeline.query(&mut con).unwrap();
    let error = replies.get(own).unwrap_err();
    assert_ne!(error.ran(), Ran::No, "{error}");
    assert_eq!(replies.not_run().count(), 0);
    assert_eq!(
        (runs(&server, "own:pipeline"), runs(&server, "own:counted")),
        (1, 1)
    );
}
