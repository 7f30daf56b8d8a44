//! A server killed (`kill -9`) with a pipeline or transaction in flight, then started again from
//! its append-only file (`appendfsync always`: whatever replied is on disk): the error says per
//! entry what is known (`Error::Interrupted`), and the restarted server agrees with it.
//!
//! Each invocation counts the runs of its own id in a hash (`count_run_slowly.lua`, after a busy
//! loop that makes a pipeline slow enough to be cut). After the restart: an entry reported
//! replied ran exactly once, with that reply; one reported not run did not run; an unknown one
//! ran 0 or 1 times. Then the caller resumes: the entries that did not run are sent again as
//! they are, the unknown ones through an idempotency check (`count_run_once.lua`), and every id
//! has run exactly once.
//!
//! On a synchronous connection the first round goes out in chunks of `CHUNK` commands, so a
//! crash there leaves the replies of the chunks read, at most two chunks unknown and the rest
//! not run; `an_unreadable_reply_cuts_a_long_sync_pipeline_per_chunk` checks the same without
//! a crash, where the cut falls at a known entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use redis::Commands;
use redis_script::{
    Error, Outcome, PipelineExt, Ran, RedisScript, Replies, Script, ScriptPipeline,
    ScriptTransaction, Ticket,
};
use throwaway_redis::RedisServer;

#[derive(RedisScript)]
#[redis_script(path = "lua/count_run_slowly.lua", returns = i64)]
struct CountRunSlowly<'a> {
    #[key]
    runs: &'a str,
    #[arg]
    id: u64,
    #[arg]
    spin: u64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/count_run_once.lua", returns = i64)]
struct CountRunOnce<'a> {
    #[key]
    runs: &'a str,
    #[arg]
    id: u64,
}

/// Counts its runs in `runs`, then answers the error reply `message`: bytes that are not
/// UTF-8, which the `redis` crate cannot read.
#[derive(RedisScript)]
#[redis_script(path = "lua/faults/unreadable.lua", returns = i64)]
struct Unreadable<'a> {
    #[key]
    runs: &'a str,
    #[arg]
    message: &'a [u8],
}

/// Invocations per pipeline.
const ENTRIES: u64 = 2_000;
/// Commands per chunk of a first round on a synchronous `redis::Connection` (redis-script's
/// `chunks::CHUNK_COMMANDS`): a cut leaves at most two chunks unknown.
const CHUNK: usize = 128;
/// Turns of the busy loop per invocation: some 0.1 to 0.5 ms each, so a pipeline takes a few
/// hundred milliseconds, and the server (which reads 16 KB of a client's pipeline at a time)
/// serves the watcher's polls between its chunks.
const SPIN: u64 = 20_000;
/// Crashes per test.
const ITERATIONS: u64 = 3;
/// Attempts per test: a crash can miss (a watcher not scheduled in time on a loaded machine
/// lets the pipeline finish first); such an attempt is checked as a complete run.
const ATTEMPTS: u64 = 3 * ITERATIONS;
/// No wait for the server may take longer than this.
const LIMIT: Duration = Duration::from_secs(30);

/// One crash test at a time: their timing relies on the watcher being scheduled promptly, which
/// several busy servers on a small machine would not allow.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A server that writes every change to its append-only file before replying, in a directory
/// that outlives it, so that it can be killed and started again with its data.
struct DurableServer {
    dir: PathBuf,
    server: RedisServer,
}

impl DurableServer {
    fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "redis-script-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        let dir = PathBuf::from(dir.to_string_lossy().replace([' ', '{', '}', ','], "_"));
        std::fs::create_dir_all(&dir).expect("a directory for the append-only file");
        let server = Self::start_in(&dir);
        DurableServer { dir, server }
    }

    fn start_in(dir: &Path) -> RedisServer {
        let dir = dir.to_str().expect("a UTF-8 temporary directory");
        RedisServer::start_with(&[
            ("dir", dir),
            ("appendonly", "yes"),
            ("appendfsync", "always"),
        ])
        .expect("the tests need redis-server >= 7 (see README)")
    }

    /// Starts the killed server again on its directory (on a new port), from its
    /// append-only file.
    fn restart(&mut self) {
        self.server.kill();
        self.server = Self::start_in(&self.dir);
    }
}

impl Drop for DurableServer {
    fn drop(&mut self) {
        self.server.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How many ids of `runs` ran, as the server says now.
fn ran(connection: &mut redis::Connection, runs: &str) -> u64 {
    connection.hlen(runs).expect("HLEN")
}

/// Waits (from a connection of its own) until at least `at_least` ids of `runs` ran, or all
/// `ENTRIES` did.
fn wait_until_ran(connection: &mut redis::Connection, runs: &str, at_least: u64) -> u64 {
    let deadline = Instant::now() + LIMIT;
    loop {
        let count = ran(connection, runs);
        if count >= at_least.min(ENTRIES) {
            return count;
        }
        assert!(
            Instant::now() < deadline,
            "{runs}: {count} of {at_least} ran"
        );
        thread::sleep(Duration::from_micros(500));
    }
}

/// A synchronous connection, or a multiplexed one with its runtime (no response timeout: the
/// pipelines take longer than the default 500 ms on a slow machine).
enum Connection {
    Sync(redis::Connection),
    Async(tokio::runtime::Runtime, redis::aio::MultiplexedConnection),
}

impl Connection {
    fn open(server: &RedisServer, asynchronous: bool) -> Self {
        if !asynchronous {
            return Connection::Sync(server.connection().expect("a connection"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let connection = runtime
            .block_on(
                server
                    .client()
                    .get_multiplexed_async_connection_with_config(&config),
            )
            .expect("an async connection");
        Connection::Async(runtime, connection)
    }

    fn query(&mut self, pipeline: &ScriptPipeline) -> Result<Replies, Error> {
        match self {
            Connection::Sync(connection) => pipeline.query(connection),
            Connection::Async(runtime, connection) => {
                runtime.block_on(pipeline.query_async(connection))
            }
        }
    }

    fn transaction(&mut self, transaction: &ScriptTransaction) -> Result<Option<Replies>, Error> {
        match self {
            Connection::Sync(connection) => transaction.query(connection),
            Connection::Async(runtime, connection) => {
                runtime.block_on(transaction.query_async(connection))
            }
        }
    }
}

/// Loads the slow script, so that a pipeline's first round runs it (a new or restarted server
/// has an empty script cache, which would make the first round all `NOSCRIPT`).
fn load(connection: &mut redis::Connection) {
    let sha1: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(CountRunSlowly::SOURCE)
        .query(connection)
        .expect("SCRIPT LOAD");
    assert_eq!(sha1, CountRunSlowly::SHA1);
}

/// A pipeline of `ENTRIES` slow invocations of ids 0, 1, ... on `runs`.
fn slow_pipeline(runs: &str) -> (ScriptPipeline, Vec<Ticket<i64>>) {
    let mut pipeline = ScriptPipeline::new();
    let tickets = (0..ENTRIES)
        .map(|id| {
            pipeline.invoke(&CountRunSlowly {
                runs,
                id,
                spin: SPIN,
            })
        })
        .collect();
    (pipeline, tickets)
}

/// The replies of an interrupted query, and whether it was interrupted: a crash that came too
/// late leaves a complete run. Panics on any other error.
fn interrupted(result: Result<Replies, Error>) -> (Replies, bool) {
    match result {
        Err(Error::Interrupted { replies, source }) => {
            assert!(source.is_io_error(), "{source}");
            (*replies, true)
        }
        Ok(replies) => {
            assert_eq!(replies.unknown().count() + replies.not_run().count(), 0);
            (replies, false)
        }
        Err(other) => panic!("expected Error::Interrupted, got {other:?}"),
    }
}

/// Checks each entry's outcome against the restarted server, resumes, and checks that every id
/// then ran exactly once. Returns how many entries were replied, not run and unknown.
fn check_and_resume(
    connection: &mut redis::Connection,
    runs: &str,
    replies: &Replies,
    tickets: &[Ticket<i64>],
) -> [usize; 3] {
    let counts: HashMap<u64, i64> = connection.hgetall(runs).expect("HGETALL");
    let mut seen = [0; 3];
    for (id, ticket) in (0..).zip(tickets) {
        let index = ticket.index();
        let count = counts.get(&id).copied().unwrap_or(0);
        match replies.outcome(index) {
            Some(Outcome::Replied) => {
                seen[0] += 1;
                assert_eq!(replies.get(*ticket).ok(), Some(1), "{runs} {id}: its reply");
                assert_eq!(count, 1, "{runs} {id}: replied, so it ran once");
                assert_eq!(replies.ran(index), Some(Ran::Yes));
            }
            Some(Outcome::NotRun) => {
                seen[1] += 1;
                assert_eq!(count, 0, "{runs} {id}: reported not run, yet it ran");
                let error = replies.get(*ticket).expect_err("not run");
                assert_eq!(error.ran(), Ran::No, "{error}");
                assert_eq!(replies.ran(index), Some(Ran::No));
            }
            Some(Outcome::Unknown) => {
                seen[2] += 1;
                assert!(count <= 1, "{runs} {id}: ran {count} times");
                let error = replies.get(*ticket).expect_err("unknown");
                assert_eq!(error.ran(), Ran::Maybe, "{error}");
                assert!(error.is_io_error(), "{error}");
                assert_eq!(replies.ran(index), Some(Ran::Maybe));
            }
            None => panic!("{runs} {id}: no outcome for index {index}"),
        }
    }
    assert_eq!(seen.iter().sum::<usize>(), tickets.len());
    assert_eq!(replies.not_run().count(), seen[1]);
    assert_eq!(replies.unknown().count(), seen[2]);

    // Resume: what did not run as it is (each runs now, for the first time), what may have run
    // through the check (it runs only if it did not).
    let mut again = ScriptPipeline::new();
    let resent: Vec<_> = replies
        .not_run()
        .map(|index| {
            again.invoke(&CountRunSlowly {
                runs,
                id: index as u64,
                spin: 0,
            })
        })
        .collect();
    let resent_replies = again
        .query(connection)
        .expect("the entries that did not run");
    for ticket in resent {
        assert_eq!(resent_replies.get(ticket).ok(), Some(1));
    }
    let mut checked = ScriptPipeline::new();
    let unknown: Vec<(u64, Ticket<i64>)> = replies
        .unknown()
        .map(|index| {
            let id = index as u64;
            (id, checked.invoke(&CountRunOnce { runs, id }))
        })
        .collect();
    let checked_replies = checked.query(connection).expect("the unknown entries");
    for (id, ticket) in unknown {
        let had_run = counts.get(&id).copied().unwrap_or(0);
        assert_eq!(
            checked_replies.get(ticket).ok(),
            Some(1 - had_run),
            "{runs} {id}: the check runs it only if it did not run"
        );
    }
    let counts: HashMap<u64, i64> = connection.hgetall(runs).expect("HGETALL");
    assert_eq!(counts.len() as u64, ENTRIES, "{runs}: every id ran");
    if let Some((id, count)) = counts.iter().find(|(_, count)| **count != 1) {
        panic!("{runs} {id}: ran {count} times after resuming");
    }
    seen
}

/// Crashes in the first round of a plain pipeline, after `ENTRIES / 10`, `2 * ENTRIES / 10`, ...
/// invocations ran.
fn crash_in_the_first_round(asynchronous: bool, iterations: u64) {
    let _serial = one_at_a_time();
    let mut durable = DurableServer::start("crash-first-round");
    let mut cut = 0;
    for iteration in 0..3 * iterations {
        if cut == iterations {
            break;
        }
        let runs = format!("runs:{iteration}");
        let at = ENTRIES / 10 * (iteration % 4 + 1);
        let mut watcher = durable.server.connection().expect("a connection");
        load(&mut watcher);
        let mut connection = Connection::open(&durable.server, asynchronous);
        let (pipeline, tickets) = slow_pipeline(&runs);
        let result = thread::scope(|scope| {
            let server = &mut durable.server;
            let runs = &runs;
            scope.spawn(move || {
                wait_until_ran(&mut watcher, runs, at);
                server.kill();
            });
            connection.query(&pipeline)
        });
        let (replies, interrupted) = interrupted(result);
        assert_eq!(replies.len() as u64, ENTRIES);
        assert!(!replies.is_atomic());
        if interrupted {
            cut += 1;
            if asynchronous {
                // The `redis` crate drops the replies it read when a later read fails: all
                // unknown.
                assert_eq!(replies.unknown().count() as u64, ENTRIES);
            } else {
                assert_chunked_cut(&runs, &replies);
            }
        }
        durable.restart();
        let mut connection = durable.server.connection().expect("a connection");
        let ran_before = ran(&mut connection, &runs);
        assert!(ran_before >= at, "{runs}: cut after {ran_before} ran");
        let seen = check_and_resume(&mut connection, &runs, &replies, &tickets);
        eprintln!("{runs}: {ran_before} ran before the crash; replied, not run, unknown: {seen:?}");
    }
    assert!(cut > 0, "no crash landed in a pipeline");
}

/// A first round cut on a synchronous connection, which sends it in chunks: the entries that
/// replied come first, then at most two chunks of unknown ones, then those never sent.
fn assert_chunked_cut(runs: &str, replies: &Replies) {
    let outcomes: Vec<Outcome> = (0..replies.len())
        .map(|index| replies.outcome(index).expect("an outcome per entry"))
        .collect();
    let replied = outcomes
        .iter()
        .take_while(|&&outcome| outcome == Outcome::Replied)
        .count();
    let unknown = outcomes[replied..]
        .iter()
        .take_while(|&&outcome| outcome == Outcome::Unknown)
        .count();
    assert!(
        outcomes[replied + unknown..]
            .iter()
            .all(|&outcome| outcome == Outcome::NotRun),
        "{runs}: replied, then unknown, then not run: {outcomes:?}"
    );
    assert!(unknown > 0, "{runs}: the entries in flight are unknown");
    assert!(
        unknown <= 2 * CHUNK,
        "{runs}: {unknown} unknown, more than two chunks"
    );
    assert_eq!(replied % CHUNK, 0, "{runs}: whole chunks replied");
}

#[test]
fn a_plain_pipeline_cut_by_a_crash_says_which_entries_may_have_run() {
    crash_in_the_first_round(false, ITERATIONS);
}

#[test]
fn an_async_plain_pipeline_cut_by_a_crash_says_which_entries_may_have_run() {
    crash_in_the_first_round(true, ITERATIONS);
}

#[test]
#[ignore = "a longer run of the crash tests: 20 crashes each, sync and async"]
fn many_crashes_in_plain_pipelines() {
    crash_in_the_first_round(false, 20);
    crash_in_the_first_round(true, 20);
    crash_in_a_recovery_round(false, 20);
    crash_in_a_recovery_round(true, 20);
}

/// A `SCRIPT FLUSH` lands in the first round, after some invocations ran; the rest answer
/// `NOSCRIPT` and go again in a second round, which the crash cuts. The entries that ran in the
/// first round keep their replies.
fn crash_in_a_recovery_round(asynchronous: bool, iterations: u64) {
    let _serial = one_at_a_time();
    let mut durable = DurableServer::start("crash-recovery-round");
    let mut cut = 0;
    for iteration in 0..3 * iterations {
        if cut == iterations {
            break;
        }
        let runs = format!("runs:{iteration}");
        let flush_at = ENTRIES / 10 * (iteration % 3 + 1);
        let mut watcher = durable.server.connection().expect("a connection");
        load(&mut watcher);
        let mut connection = Connection::open(&durable.server, asynchronous);
        let (pipeline, tickets) = slow_pipeline(&runs);
        let (result, before_flush) = thread::scope(|scope| {
            let server = &mut durable.server;
            let runs = &runs;
            let watcher = scope.spawn(move || {
                wait_until_ran(&mut watcher, runs, flush_at);
                redis::cmd("SCRIPT")
                    .arg("FLUSH")
                    .exec(&mut watcher)
                    .expect("SCRIPT FLUSH");
                // Nothing of the pipeline runs after the flush until it is sent again.
                let before_flush = ran(&mut watcher, runs);
                wait_until_ran(&mut watcher, runs, before_flush + ENTRIES / 20);
                server.kill();
                before_flush
            });
            let result = connection.query(&pipeline);
            (result, watcher.join().expect("the watcher"))
        });
        let (replies, interrupted) = interrupted(result);
        // Cut in the second round: exactly the invocations that ran before the flush
        // replied, and the second round's are unknown.
        if interrupted && before_flush < ENTRIES {
            cut += 1;
            let replied: Vec<usize> = (0..replies.len())
                .filter(|&index| replies.outcome(index) == Some(Outcome::Replied))
                .collect();
            let expected: Vec<usize> = (0..before_flush as usize).collect();
            assert_eq!(replied, expected, "{runs}: the first round's replies");
            let unknown: Vec<usize> = replies.unknown().collect();
            assert_eq!(
                unknown,
                (before_flush as usize..ENTRIES as usize).collect::<Vec<_>>()
            );
        }
        durable.restart();
        let mut connection = durable.server.connection().expect("a connection");
        let seen = check_and_resume(&mut connection, &runs, &replies, &tickets);
        eprintln!("{runs}: flushed after {before_flush}; replied, not run, unknown: {seen:?}");
    }
    assert!(cut > 0, "no crash landed in a second round");
}

#[test]
fn a_crash_in_a_recovery_round_keeps_the_replies_of_the_first() {
    crash_in_a_recovery_round(false, ITERATIONS);
}

#[test]
fn an_async_crash_in_a_recovery_round_keeps_the_replies_of_the_first() {
    crash_in_a_recovery_round(true, ITERATIONS);
}

/// A transaction killed while `EXEC` runs it: every entry unknown, and all of them ran or none.
/// Alternates synchronous and asynchronous connections.
#[test]
fn a_transaction_cut_by_a_crash_is_unknown_as_a_whole() {
    const TRANSACTION: u64 = 300;
    let _serial = one_at_a_time();
    let mut durable = DurableServer::start("crash-transaction");
    let transaction_of = |runs: &str| {
        let mut transaction = ScriptTransaction::new();
        let tickets: Vec<Ticket<i64>> = (0..TRANSACTION)
            .map(|id| {
                transaction.invoke(&CountRunSlowly {
                    runs,
                    id,
                    spin: 5 * SPIN,
                })
            })
            .collect();
        (transaction, tickets)
    };
    // How long `EXEC` takes here, to kill the server in the middle of it.
    let (transaction, _) = transaction_of("runs:timed");
    let mut timed = Connection::open(&durable.server, false);
    let started = Instant::now();
    let timed = timed.transaction(&transaction);
    let took = started.elapsed();
    assert!(matches!(timed, Ok(Some(_))), "{timed:?}");
    let mut cut = 0;
    for iteration in 0..ATTEMPTS {
        if cut == ITERATIONS {
            break;
        }
        let runs = format!("runs:{iteration}");
        let (transaction, tickets) = transaction_of(&runs);
        let mut connection = Connection::open(&durable.server, iteration % 2 == 1);
        // Within the first third of `EXEC`.
        let wait = took * (iteration % ITERATIONS + 1) as u32 / (3 * ITERATIONS as u32 + 3);
        let result = thread::scope(|scope| {
            let server = &mut durable.server;
            scope.spawn(move || {
                thread::sleep(wait);
                server.kill();
            });
            connection.transaction(&transaction)
        });
        let (replies, interrupted) =
            interrupted(result.map(|replies| replies.expect("nothing is WATCHed")));
        assert!(replies.is_atomic());
        if interrupted {
            cut += 1;
            assert_eq!(replies.unknown().count() as u64, TRANSACTION);
        }
        durable.restart();
        let mut connection = durable.server.connection().expect("a connection");
        let ran_before = ran(&mut connection, &runs);
        assert!(
            ran_before == 0 || ran_before == TRANSACTION,
            "{runs}: {ran_before} of the transaction ran"
        );
        let counts: HashMap<u64, i64> = connection.hgetall(&runs).expect("HGETALL");
        assert!(counts.values().all(|&count| count == 1), "{counts:?}");
        // Resume through the check: the whole transaction, or none of it, runs now.
        let mut checked = ScriptTransaction::new();
        let checks: Vec<Ticket<i64>> = replies
            .unknown()
            .map(|index| {
                checked.invoke(&CountRunOnce {
                    runs: &runs,
                    id: tickets[index].index() as u64,
                })
            })
            .collect();
        let checked = checked
            .query(&mut connection)
            .expect("the check")
            .expect("nothing is WATCHed");
        let expected = i64::from(ran_before == 0);
        assert_eq!(
            checks.len() as u64,
            if interrupted { TRANSACTION } else { 0 }
        );
        for ticket in checks {
            assert_eq!(checked.get(ticket).ok(), Some(expected));
        }
        let counts: HashMap<u64, i64> = connection.hgetall(&runs).expect("HGETALL");
        assert_eq!(counts.len() as u64, TRANSACTION);
        assert!(counts.values().all(|&count| count == 1), "{counts:?}");
        eprintln!("{runs}: killed after {wait:?} of {took:?}; {ran_before} ran");
    }
    assert!(cut > 0, "no crash landed in a transaction");
}

/// Where the unreadable reply stands in [`an_unreadable_reply_cuts_a_long_sync_pipeline_per_chunk`].
const UNREADABLE_AT: usize = 1_000;

/// A pipeline of `ENTRIES` counted invocations on `runs` with an unreadable reply at
/// `UNREADABLE_AT`; the tickets of the counted ones, by id.
fn pipeline_with_an_unreadable_reply(runs: &str) -> (ScriptPipeline, Vec<(u64, Ticket<i64>)>) {
    let mut pipeline = ScriptPipeline::new();
    let mut tickets = Vec::new();
    for index in 0..ENTRIES as usize {
        if index == UNREADABLE_AT {
            pipeline.invoke(&Unreadable {
                runs: "unreadable",
                message: b"ERR bad \xff key",
            });
        } else {
            let id = index as u64;
            tickets.push((id, pipeline.invoke(&CountRunSlowly { runs, id, spin: 0 })));
        }
    }
    (pipeline, tickets)
}

/// Waits until `count` ids of `runs` ran, then a little more, and checks that no more did.
fn settle(connection: &mut redis::Connection, runs: &str, count: u64) {
    let deadline = Instant::now() + LIMIT;
    while ran(connection, runs) < count {
        assert!(
            Instant::now() < deadline,
            "{runs}: {} of {count} ran",
            ran(connection, runs)
        );
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        ran(connection, runs),
        count,
        "{runs}: nothing runs after the cut"
    );
}

/// No timing luck: an entry in the middle of a 2,000-entry pipeline answers an error reply the
/// `redis` crate cannot read. On a synchronous connection the first round goes out in chunks
/// of `CHUNK` with a one-chunk lag, so the entries of the chunks before the unreadable reply's
/// have their replies, that chunk and the one sent with the call that read it are unknown (the
/// server ran them all), and the later chunks were never sent, and did not run. The connection
/// is closed. `query_scripts` sends the same way.
#[test]
fn an_unreadable_reply_cuts_a_long_sync_pipeline_per_chunk() {
    let server = RedisServer::start().expect("the tests need redis-server >= 7 (see README)");
    let mut admin = server.connection().expect("a connection");
    load(&mut admin);
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(Unreadable::SOURCE)
        .query(&mut admin)
        .expect("SCRIPT LOAD");
    let runs = "runs:unreadable";
    let (pipeline, tickets) = pipeline_with_an_unreadable_reply(runs);
    let mut connection = server.connection().expect("a connection");
    let error = pipeline
        .query(&mut connection)
        .expect_err("an unreadable reply");
    let Error::Interrupted { replies, source } = &error else {
        panic!("expected Error::Interrupted, got {error:?}");
    };
    assert_eq!(source.kind(), redis::ErrorKind::Parse, "{source}");
    assert_eq!(error.ran(), Ran::Maybe);
    assert!(!replies.is_atomic());
    // The unreadable reply's chunk and the next one are unknown. (The pipeline mixes two
    // scripts, so `SCRIPT LOAD`s this process had not sent yet may go in front and shift the
    // chunks by as many commands.)
    let first_unknown = replies.unknown().next().expect("unknown entries");
    let first_not_run = first_unknown + 2 * CHUNK;
    assert!(
        (first_unknown..first_unknown + CHUNK).contains(&UNREADABLE_AT),
        "the chunk of the unreadable reply starts at {first_unknown}"
    );
    assert!(first_not_run < ENTRIES as usize);
    // Everything sent ran, the unreadable entry's chunk and the next included; nothing after.
    settle(&mut admin, runs, first_not_run as u64 - 1);
    assert_eq!(admin.get::<_, i64>("unreadable").expect("GET"), 1);
    let counts: HashMap<u64, i64> = admin.hgetall(runs).expect("HGETALL");
    for &(id, ticket) in &tickets {
        let index = ticket.index();
        let count = counts.get(&id).copied().unwrap_or(0);
        let outcome = replies.outcome(index);
        if index < first_unknown {
            assert_eq!(outcome, Some(Outcome::Replied), "{id}");
            assert_eq!(replies.get(ticket).ok(), Some(1), "{id}: its reply");
            assert_eq!(replies.ran(index), Some(Ran::Yes), "{id}");
            assert_eq!(count, 1, "{id}: replied, so it ran once");
        } else if index < first_not_run {
            assert_eq!(outcome, Some(Outcome::Unknown), "{id}");
            let error = replies.get(ticket).expect_err("unknown");
            assert_eq!(error.ran(), Ran::Maybe, "{id}: {error}");
            assert_eq!(replies.ran(index), Some(Ran::Maybe), "{id}");
            assert_eq!(count, 1, "{id}: sent, so it ran");
        } else {
            assert_eq!(outcome, Some(Outcome::NotRun), "{id}");
            let error = replies.get(ticket).expect_err("not run");
            assert_eq!(error.ran(), Ran::No, "{id}: {error}");
            assert_eq!(replies.ran(index), Some(Ran::No), "{id}");
            assert_eq!(count, 0, "{id}: never sent, yet it ran");
        }
    }
    assert_eq!(
        replies.not_run().collect::<Vec<_>>(),
        (first_not_run..ENTRIES as usize).collect::<Vec<_>>()
    );
    assert_eq!(
        replies.unknown().collect::<Vec<_>>(),
        (first_unknown..first_not_run).collect::<Vec<_>>()
    );
    // The connection is closed: nothing sent on it runs.
    let later = CountRunOnce { runs, id: 1_999 }.invoke(&mut connection);
    assert!(later.is_err(), "{later:?}");
    thread::sleep(Duration::from_millis(50));
    assert!(!admin.hexists::<_, _, bool>(runs, 1_999).expect("HEXISTS"));

    // Resume on a new connection: what did not run, as it is; every id then ran once.
    let mut connection = server.connection().expect("a connection");
    let mut again = ScriptPipeline::new();
    let resent: Vec<Ticket<i64>> = replies
        .not_run()
        .map(|index| {
            again.invoke(&CountRunSlowly {
                runs,
                id: index as u64,
                spin: 0,
            })
        })
        .collect();
    let resent_replies = again.query(&mut connection).expect("the entries not run");
    for ticket in resent {
        assert_eq!(resent_replies.get(ticket).ok(), Some(1));
    }
    let counts: HashMap<u64, i64> = admin.hgetall(runs).expect("HGETALL");
    assert_eq!(
        counts.len() as u64,
        ENTRIES - 1,
        "every id but the unreadable entry's"
    );
    assert!(counts.values().all(|&count| count == 1), "{counts:?}");

    // `query_scripts` sends the same way: the chunks after the cut never ran. (Its error stays
    // the `redis` crate's parse error, which cannot carry the replies.)
    let runs = "runs:unreadable-ext";
    let mut pipeline = redis::pipe();
    for index in 0..ENTRIES as usize {
        if index == UNREADABLE_AT {
            pipeline.evalsha_script(&Unreadable {
                runs: "unreadable",
                message: b"ERR bad \xff key",
            });
        } else {
            pipeline.evalsha_script(&CountRunSlowly {
                runs,
                id: index as u64,
                spin: 0,
            });
        }
    }
    let mut connection = server.connection().expect("a connection");
    let error = pipeline
        .query_scripts::<Vec<redis::Value>, _>(&mut connection)
        .expect_err("an unreadable reply");
    assert_eq!(error.kind(), redis::ErrorKind::Parse, "{error}");
    let deadline = Instant::now() + LIMIT;
    let mut count = ran(&mut admin, runs);
    loop {
        thread::sleep(Duration::from_millis(100));
        let now = ran(&mut admin, runs);
        if now == count && now as usize >= UNREADABLE_AT {
            break;
        }
        assert!(Instant::now() < deadline, "{runs}: {now} ran");
        count = now;
    }
    assert_eq!(admin.get::<_, i64>("unreadable").expect("GET"), 2);
    let mut ids: Vec<u64> = admin.hkeys(runs).expect("HKEYS");
    ids.sort_unstable();
    let sent: Vec<u64> = (0..=count)
        .filter(|&id| id as usize != UNREADABLE_AT)
        .collect();
    assert_eq!(
        ids, sent,
        "{runs}: the chunks up to the one after the cut ran"
    );
    assert!(
        (count as usize) < UNREADABLE_AT + 2 * CHUNK,
        "{runs}: {count} ran; the chunks after the cut were not sent"
    );
}

/// A read timeout in the middle of a chunked first round: the entries of the chunks read keep
/// their replies, the chunk whose read timed out and the one written with it are unknown, the
/// rest was never sent. The connection stays in step, as after a timeout in one call: the
/// replies still owed to it are skipped, and the next command gets its own reply.
#[test]
fn a_read_timeout_in_a_chunked_first_round_keeps_the_connection_in_step() {
    const SLOW_AT: usize = CHUNK + CHUNK / 2;
    const COUNT: usize = 5 * CHUNK;
    let server = RedisServer::start().expect("the tests need redis-server >= 7 (see README)");
    let mut admin = server.connection().expect("a connection");
    load(&mut admin);
    let runs = "runs:timeout";
    let mut pipeline = ScriptPipeline::new();
    let tickets: Vec<Ticket<i64>> = (0..COUNT)
        .map(|index| {
            pipeline.invoke(&CountRunSlowly {
                runs,
                id: index as u64,
                // Far longer than the read timeout.
                spin: if index == SLOW_AT { 50_000_000 } else { 0 },
            })
        })
        .collect();
    let mut connection = server.connection().expect("a connection");
    connection
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("a read timeout");
    let error = pipeline.query(&mut connection).expect_err("a timeout");
    let Error::Interrupted { replies, source } = &error else {
        panic!("expected Error::Interrupted, got {error:?}");
    };
    assert!(source.is_timeout(), "{source}");
    let outcomes: Vec<Option<Outcome>> = (0..COUNT).map(|index| replies.outcome(index)).collect();
    for (index, outcome) in outcomes.iter().enumerate() {
        let expected = if index < CHUNK {
            Outcome::Replied
        } else if index < 3 * CHUNK {
            Outcome::Unknown
        } else {
            Outcome::NotRun
        };
        assert_eq!(*outcome, Some(expected), "entry {index}");
    }
    assert_eq!(replies.get(tickets[0]).ok(), Some(1));
    // In step: the next command on the connection reads its own reply, once the slow entry and
    // the chunk after it are done.
    connection.set_read_timeout(None).expect("no read timeout");
    let ran: u64 = redis::cmd("HLEN")
        .arg(runs)
        .query(&mut connection)
        .expect("HLEN");
    assert_eq!(ran, 3 * CHUNK as u64, "what was sent ran; nothing else did");
    let pong: String = redis::cmd("PING").query(&mut connection).expect("PING");
    assert_eq!(pong, "PONG");
    let counts: HashMap<u64, i64> = admin.hgetall(runs).expect("HGETALL");
    assert_eq!(counts.len(), 3 * CHUNK);
    assert!(counts.values().all(|&count| count == 1), "{counts:?}");
}
