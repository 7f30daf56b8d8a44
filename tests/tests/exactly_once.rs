//! Exactly once, in order, while another connection sends `SCRIPT FLUSH` every few
//! milliseconds: plain pipelines, transactions and cluster batches, against real servers.
//!
//! Each proof runs `INVOCATIONS` invocations of `count_calls.lua` (`RPUSH log id`, then
//! `INCR count`) and checks at the end that the counter equals the number of invocations and
//! that the log holds every id once, in the order sent (per slot for the cluster).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use redis::Commands;
use redis_script::batch::{ClusterBatch, ClusterNodes, DEFAULT_RESPONSE_TIMEOUT, Retry};
use redis_script::{PipelineExt, RedisScript, Script, ScriptPipeline, ScriptTransaction};
use throwaway_redis::{ClusterNode, RedisCluster, RedisServer};

/// Invocations per proof (plain pipelines, transactions, cluster batches: each this many).
const INVOCATIONS: u64 = 100_000;
/// Pause between two `SCRIPT FLUSH`es.
const FLUSH_EVERY: Duration = Duration::from_millis(3);
/// No proof may run longer than this (the flusher stops then too).
const LIMIT: Duration = Duration::from_secs(120);

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

/// The same work as `CountCall` in a ~25 KB script (312 helpers first), the size of production
/// job-queue scripts: what makes sending the source per invocation expensive.
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

/// One key: a multi-key script cannot run in a slot while it migrates (Redis answers
/// `TRYAGAIN` until all its keys are on one side), so the `ASK` proof uses this one.
#[derive(RedisScript)]
#[redis_script(path = "lua/append_id.lua", returns = i64)]
struct AppendId<'a> {
    #[key]
    list: &'a str,
    #[arg]
    id: u64,
}

/// Writes, then returns `error` as its error reply: a script's own reply that may look like a
/// server's redirect or refusal.
#[derive(RedisScript)]
#[redis_script(path = "lua/write_then_reply_error.lua", returns = i64)]
struct WriteThenReplyError<'a> {
    #[key]
    list: &'a str,
    #[arg]
    id: u64,
    #[arg]
    error: &'a str,
}

/// Sends `SCRIPT FLUSH` to each connection in turn every `FLUSH_EVERY` until dropped; counts them.
struct Flusher {
    stop: Arc<AtomicBool>,
    flushes: Arc<AtomicU64>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Flusher {
    fn start(mut connections: Vec<redis::Connection>) -> Flusher {
        let stop = Arc::new(AtomicBool::new(false));
        let flushes = Arc::new(AtomicU64::new(0));
        let thread = thread::spawn({
            let (stop, flushes) = (stop.clone(), flushes.clone());
            move || {
                let deadline = Instant::now() + LIMIT;
                let mut next = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let count = connections.len();
                    let connection = &mut connections[next % count];
                    next += 1;
                    redis::cmd("SCRIPT")
                        .arg("FLUSH")
                        .exec(connection)
                        .expect("SCRIPT FLUSH");
                    flushes.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(FLUSH_EVERY);
                }
            }
        });
        Flusher {
            stop,
            flushes,
            thread: Some(thread),
        }
    }

    /// Stops flushing and returns how many flushes were sent.
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

fn server() -> RedisServer {
    RedisServer::start().expect("the tests need redis-server >= 7 (see README)")
}

fn elapsed_ok(started: Instant, what: &str) {
    assert!(
        started.elapsed() < LIMIT,
        "{what} took {:?}",
        started.elapsed()
    );
}

/// The log must be exactly `expected`, and the counter its length.
fn check_log_and_count(connection: &mut redis::Connection, tag: &str, expected: &[String]) {
    let log: Vec<String> = connection.lrange(format!("{{{tag}}}:log"), 0, -1).unwrap();
    assert_eq!(log.len(), expected.len(), "{tag}: entries in the log");
    if let Some(at) = log.iter().zip(expected).position(|(got, want)| got != want) {
        panic!(
            "{tag}: log entry {at} is {} where {} was sent",
            log[at], expected[at]
        );
    }
}

#[test]
fn plain_pipelines_run_every_invocation_once_in_order_under_script_flush() {
    const DEPTH: u64 = 500;
    let server = server();
    let mut con = server.connection().unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);
    let started = Instant::now();

    // Every 10th entry is an ordinary command writing to the same list, so the order of
    // invocations relative to commands is checked too.
    let mut expected = Vec::new();
    let mut id = 0;
    while id < INVOCATIONS {
        let mut pipeline = ScriptPipeline::new();
        let mut tickets = Vec::new();
        for _ in 0..DEPTH.min(INVOCATIONS - id) {
            id += 1;
            tickets.push((id, pipeline.invoke(&count_call("p", id))));
            expected.push(id.to_string());
            if id % 10 == 0 {
                let marker = format!("c{id}");
                pipeline.command::<i64>(redis::cmd("RPUSH").arg("{p}:log").arg(&marker));
                expected.push(marker);
            }
        }
        let replies = pipeline.query(&mut con).expect("the pipeline");
        for (id, ticket) in tickets {
            // INCR's reply is the invocation's position: each ran once, in order.
            assert_eq!(replies.get(ticket).expect("no invocation fails"), id as i64);
        }
    }
    let flushes = flusher.finish();
    elapsed_ok(started, "plain pipelines");

    let count: u64 = con.get("{p}:count").unwrap();
    assert_eq!(count, INVOCATIONS);
    check_log_and_count(&mut con, "p", &expected);
    assert!(
        flushes > 10,
        "only {flushes} SCRIPT FLUSHes landed during the run"
    );
    println!(
        "plain pipelines: {INVOCATIONS} invocations, {flushes} flushes, {:?}",
        started.elapsed()
    );
}

/// Plain pipelines of the 25 KB script only, sent as `EVALSHA`: a flush that lands in the
/// middle fails the rest of the pipeline with `NOSCRIPT`, which is sent again, in order, after
/// a reload. Every invocation runs once, in order, and none is reported as not run.
#[test]
fn plain_evalsha_pipelines_of_a_large_script_run_once_in_order_under_script_flush() {
    const DEPTH: u64 = 100;
    let server = server();
    let mut con = server.connection().unwrap();
    let mut stats = server.connection().unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);
    let started = Instant::now();
    let mut recovered = 0;
    for first in (1..=INVOCATIONS).step_by(DEPTH as usize) {
        let mut pipeline = ScriptPipeline::new();
        let tickets: Vec<_> = (first..first + DEPTH)
            .map(|id| (id, pipeline.invoke(&count_call_large("big", id))))
            .collect();
        let replies = pipeline.query(&mut con).expect("the pipeline");
        assert_eq!(replies.not_run().count(), 0, "pipeline from {first}");
        for (id, ticket) in tickets {
            assert_eq!(replies.get(ticket).expect("no invocation fails"), id as i64);
        }
        recovered += 1;
    }
    let flushes = flusher.finish();
    elapsed_ok(started, "plain EVALSHA pipelines");
    let count: u64 = con.get("{big}:count").unwrap();
    assert_eq!(count, INVOCATIONS);
    let expected: Vec<String> = (1..=INVOCATIONS).map(|id| id.to_string()).collect();
    check_log_and_count(&mut con, "big", &expected);
    assert!(flushes > 10, "only {flushes} flushes");
    let stat = |stats: &mut redis::Connection, name: &str| -> u64 {
        let info: String = redis::cmd("INFO").arg("commandstats").query(stats).unwrap();
        info.lines()
            .find_map(|line| line.strip_prefix(&format!("cmdstat_{name}:calls=")))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |calls| calls.parse().unwrap())
    };
    let (loads, evals, evalshas) = (
        stat(&mut stats, "script|load"),
        stat(&mut stats, "eval"),
        stat(&mut stats, "evalsha"),
    );
    println!(
        "plain EVALSHA pipelines: {INVOCATIONS} invocations in {recovered} pipelines, {flushes} \
         flushes, {loads} SCRIPT LOAD, {evals} EVAL, {evalshas} EVALSHA, {:?}",
        started.elapsed()
    );
    assert!(
        loads >= 1 && loads <= flushes + 1,
        "a load per flush at most"
    );
}

/// `PipelineExt::evalsha_script` sent with `query_scripts`, plain and `atomic()`, the 25 KB
/// script, under the same flushes.
fn redis_pipelines_with_evalsha_script_under_script_flush(atomic: bool) {
    redis_pipelines_under_script_flush(
        if atomic { "xatomic" } else { "xplain" },
        atomic,
        |pipeline, tag, id| {
            pipeline.evalsha_script(&count_call_large(tag, id));
        },
        |pipeline, con| pipeline.query_scripts(con).expect("the pipeline"),
    );
}

#[test]
fn plain_redis_pipelines_with_evalsha_script_run_once_in_order_under_script_flush() {
    redis_pipelines_with_evalsha_script_under_script_flush(false);
}

#[test]
fn atomic_redis_pipelines_with_evalsha_script_run_once_in_order_under_script_flush() {
    redis_pipelines_with_evalsha_script_under_script_flush(true);
}

/// 50 tasks on one multiplexed connection, each invoking the 25 KB script one call after
/// another, while the flusher runs: every call runs once, each task's in its order, and the
/// shared reloads never run a call twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_of_a_large_script_run_once_under_script_flush() {
    const TASKS: u64 = 50;
    const PER_TASK: u64 = 400;
    let server = tokio::task::spawn_blocking(server).await.unwrap();
    let connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let mut connection = connection.clone();
            tokio::spawn(async move {
                let tag = format!("task{task}");
                for id in 1..=PER_TASK {
                    let count = count_call_large(&tag, id)
                        .invoke_async(&mut connection)
                        .await
                        .unwrap_or_else(|error| panic!("{tag} call {id}: {error}"));
                    assert_eq!(count as u64, id, "{tag}: once each, in order");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let flushes = flusher.finish();
    elapsed_ok(started, "concurrent invocations");
    let mut con = server.connection().unwrap();
    for task in 0..TASKS {
        let tag = format!("task{task}");
        let expected: Vec<String> = (1..=PER_TASK).map(|id| id.to_string()).collect();
        check_log_and_count(&mut con, &tag, &expected);
    }
    assert!(flushes > 10, "only {flushes} flushes");
    println!(
        "concurrent invocations: {} calls, {flushes} flushes, {:?}",
        TASKS * PER_TASK,
        started.elapsed()
    );
}

/// `PipelineExt` (invocations inside a `redis::Pipeline`, plain or `atomic()`): each is an
/// `EVAL`, which cannot fail with `NOSCRIPT`, so flushes change nothing.
fn redis_pipelines_with_eval_script_under_script_flush(atomic: bool) {
    redis_pipelines_under_script_flush(
        if atomic { "atomic" } else { "plain" },
        atomic,
        |pipeline, tag, id| {
            pipeline.eval_script(&count_call(tag, id));
        },
        |pipeline, con| pipeline.query(con).expect("the pipeline"),
    );
}

/// 20,000 invocations in `redis::Pipeline`s of 50, built with `add` and sent with `send`, while
/// another connection flushes the script cache: each ran once, in order.
fn redis_pipelines_under_script_flush(
    tag: &str,
    atomic: bool,
    add: impl Fn(&mut redis::Pipeline, &str, u64),
    send: impl Fn(&redis::Pipeline, &mut redis::Connection) -> Vec<i64>,
) {
    const INVOCATIONS: u64 = 20_000;
    const DEPTH: u64 = 50;
    let server = server();
    let mut con = server.connection().unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);
    let started = Instant::now();
    for first in (1..=INVOCATIONS).step_by(DEPTH as usize) {
        let mut pipeline = redis::pipe();
        if atomic {
            pipeline.atomic();
        }
        for id in first..first + DEPTH {
            add(&mut pipeline, tag, id);
        }
        let counts = send(&pipeline, &mut con);
        let expected: Vec<i64> = (first..first + DEPTH).map(|id| id as i64).collect();
        assert_eq!(counts, expected, "replies of the pipeline from {first}");
    }
    let flushes = flusher.finish();
    elapsed_ok(started, tag);

    let count: u64 = con.get(format!("{{{tag}}}:count")).unwrap();
    assert_eq!(count, INVOCATIONS);
    let expected: Vec<String> = (1..=INVOCATIONS).map(|id| id.to_string()).collect();
    check_log_and_count(&mut con, tag, &expected);
    assert!(
        flushes > 10,
        "only {flushes} SCRIPT FLUSHes landed during the run"
    );
}

#[test]
fn plain_redis_pipelines_with_eval_script_run_once_in_order_under_script_flush() {
    redis_pipelines_with_eval_script_under_script_flush(false);
}

#[test]
fn atomic_redis_pipelines_with_eval_script_run_once_in_order_under_script_flush() {
    redis_pipelines_with_eval_script_under_script_flush(true);
}

/// The control experiment: the same flushes do land between a `SCRIPT LOAD` and the `EVALSHA`s
/// of one hand-written pipeline, which is why `ScriptPipeline` does not send those.
#[test]
fn script_flush_does_land_inside_a_load_then_evalsha_pipeline() {
    let server = server();
    let mut con = server.connection().unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);
    let mut failed_after_load = 0;
    for round in 0..200u64 {
        let mut pipeline = redis::pipe();
        pipeline
            .cmd("SCRIPT")
            .arg("LOAD")
            .arg(CountCall::SOURCE)
            .ignore();
        for id in 0..1000 {
            pipeline.add_command(count_call("control", round * 1000 + id).evalsha_command());
        }
        let replies: Vec<redis::RedisResult<i64>> = pipeline
            .ignore_errors()
            .query(&mut con)
            .expect("the control pipeline");
        failed_after_load += replies.iter().filter(|reply| reply.is_err()).count();
        if failed_after_load > 0 {
            break;
        }
    }
    flusher.finish();
    assert!(
        failed_after_load > 0,
        "no EVALSHA ever failed: the control proves nothing"
    );
}

#[test]
fn transactions_stay_atomic_and_exactly_once_under_script_flush_and_a_concurrent_writer() {
    const SIZE: u64 = 200;
    let server = server();
    let mut con = server.connection().unwrap();
    let flusher = Flusher::start(vec![server.connection().unwrap()]);

    // Another client appends to the same list as fast as it can: if anything interleaved
    // with a transaction, its entries would split a transaction's run of ids.
    let stop_writer = Arc::new(AtomicBool::new(false));
    let writer = thread::spawn({
        let stop = stop_writer.clone();
        let mut connection = server.connection().unwrap();
        move || {
            let deadline = Instant::now() + LIMIT;
            let mut written = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let _: i64 = connection
                    .rpush("{t}:log", "w")
                    .expect("the writer's RPUSH");
                written += 1;
            }
            written
        }
    });

    let started = Instant::now();
    let mut id = 0;
    while id < INVOCATIONS {
        let mut transaction = ScriptTransaction::new();
        let first = id + 1;
        let mut tickets = Vec::new();
        for _ in 0..SIZE.min(INVOCATIONS - id) {
            id += 1;
            tickets.push(transaction.invoke(&count_call("t", id)));
        }
        let replies = transaction
            .query(&mut con)
            .expect("EXEC")
            .expect("nothing is WATCHed");
        let counts: Vec<i64> = tickets
            .iter()
            .map(|&ticket| replies.get(ticket).expect("no invocation fails"))
            .collect();
        // Consecutive counts: nothing else ran the script in between.
        assert_eq!(counts, (first as i64..=id as i64).collect::<Vec<_>>());
    }
    stop_writer.store(true, Ordering::Relaxed);
    let written = writer.join().expect("the writer panicked");
    let flushes = flusher.finish();
    elapsed_ok(started, "transactions");

    let count: u64 = con.get("{t}:count").unwrap();
    assert_eq!(count, INVOCATIONS);
    let log: Vec<String> = con.lrange("{t}:log", 0, -1).unwrap();
    let ids: Vec<u64> = log
        .iter()
        .filter(|entry| *entry != "w")
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=INVOCATIONS).collect::<Vec<_>>(),
        "every id once, in order"
    );
    assert_eq!(
        (log.len() - ids.len()) as u64,
        written,
        "every write of the other client"
    );
    // No "w" inside a transaction: each run of SIZE ids is contiguous in the log.
    let mut run_start = None;
    for (at, entry) in log.iter().enumerate() {
        if entry == "w" {
            continue;
        }
        let id: u64 = entry.parse().unwrap();
        if (id - 1).is_multiple_of(SIZE) {
            run_start = Some(at);
        } else if let Some(start) = run_start {
            let expected_at = start + ((id - 1) % SIZE) as usize;
            assert_eq!(
                at, expected_at,
                "id {id}: another client's write interleaved with its transaction"
            );
        }
    }
    assert!(
        written > 0 && flushes > 10,
        "writer {written}, flushes {flushes}"
    );
    println!(
        "transactions: {INVOCATIONS} invocations, {flushes} flushes, {written} concurrent writes, {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_batches_run_every_invocation_once_in_slot_order_under_script_flush() {
    const BATCH: u64 = 5_000;
    const TAGS: u64 = 64;
    let mut cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap()
        .expect("the cluster");
    let mut nodes = ClusterNodes::connect(cluster.urls()[0].as_str())
        .await
        .unwrap();
    let flush_connections = cluster
        .primaries()
        .iter()
        .map(|node| node.connection().unwrap())
        .collect();
    let flusher = Flusher::start(flush_connections);

    let tags: Vec<String> = (0..TAGS).map(|tag| format!("g{tag}")).collect();
    let large_tags: Vec<String> = (0..TAGS).map(|tag| format!("large{tag}")).collect();
    let started = Instant::now();
    let mut id = 0;
    while id < INVOCATIONS {
        let mut batch = ClusterBatch::new();
        let mut tickets = Vec::new();
        for _ in 0..BATCH.min(INVOCATIONS - id) {
            id += 1;
            let tag = &tags[(id % TAGS) as usize];
            tickets.push((id, batch.invoke(&count_call(tag, id))));
        }
        let replies = batch.run_async(&mut nodes).await.expect("the batch");
        for (id, ticket) in tickets {
            // The count per tag is the invocation's position among its tag's: in order, once.
            let expected = id.div_ceil(TAGS);
            let count = replies
                .get(ticket)
                .unwrap_or_else(|error| panic!("invocation {id}: {error}"));
            assert_eq!(count as u64, expected, "invocation {id}");
        }
    }
    // The same with the 25 KB script: `EVALSHA`s in the groups, one `SCRIPT LOAD` per node
    // and round, groups that a flush emptied sent again whole.
    const LARGE: u64 = 20_000;
    let mut id = 0;
    while id < LARGE {
        let mut batch = ClusterBatch::new();
        let mut tickets = Vec::new();
        for _ in 0..BATCH.min(LARGE - id) {
            id += 1;
            let tag = &large_tags[(id % TAGS) as usize];
            tickets.push((id, batch.invoke(&count_call_large(tag, id))));
        }
        let replies = batch.run_async(&mut nodes).await.expect("the batch");
        assert_eq!(replies.not_run().count(), 0);
        for (id, ticket) in tickets {
            let count = replies
                .get(ticket)
                .unwrap_or_else(|error| panic!("large invocation {id}: {error}"));
            assert_eq!(count as u64, id.div_ceil(TAGS), "large invocation {id}");
        }
    }
    // Slots of a few invocations, sent in waves (each invocation only after the one before it
    // in its slot ran), beside slots of one and slots of many (transactions), under the same
    // flushes. A wave member answered `NOSCRIPT` did not run, and nothing after it in its slot
    // was sent: it and the rest go again, in order. Sending the rest without waiting, or not
    // sending a `NOSCRIPT` member again, breaks the counts or the logs' order below.
    const WAVE_TAGS: usize = 1_200;
    const WAVE_BATCHES: u64 = 12;
    let mut used = std::collections::HashSet::new();
    let wave_tags: Vec<String> = (0..)
        .map(|n| format!("w{n}"))
        .filter(|tag| used.insert(redis_script_analysis::hash_slot(tag.as_bytes())))
        .take(WAVE_TAGS + 8)
        .collect();
    // 1, 2, 3 or 4 per slot and batch; the last 8 tags 25 per batch.
    let per_batch = |index: usize| {
        if index < WAVE_TAGS {
            1 + index as u64 % 4
        } else {
            25
        }
    };
    let mut logs: Vec<Vec<String>> = vec![Vec::new(); wave_tags.len()];
    let mut wave_id = 0u64;
    let mut wave_sent = 0u64;
    for _ in 0..WAVE_BATCHES {
        let mut batch = ClusterBatch::new();
        let mut tickets = Vec::new();
        // Round by round over the tags: each slot's invocations spread over the batch.
        for round in 0..25 {
            for (index, tag) in wave_tags.iter().enumerate() {
                if round < per_batch(index) {
                    wave_id += 1;
                    logs[index].push(wave_id.to_string());
                    let position = logs[index].len() as u64;
                    tickets.push((index, position, batch.invoke(&count_call(tag, wave_id))));
                }
            }
        }
        let replies = batch.run_async(&mut nodes).await.expect("the batch");
        assert_eq!(replies.not_run().count(), 0);
        for (index, expected, ticket) in tickets {
            wave_sent += 1;
            let count = replies
                .get(ticket)
                .unwrap_or_else(|error| panic!("{}: {error}", wave_tags[index]));
            assert_eq!(
                count as u64, expected,
                "{}: in order, once",
                wave_tags[index]
            );
        }
    }
    for (index, tag) in wave_tags.iter().enumerate() {
        let slot = redis_script_analysis::hash_slot(tag.as_bytes());
        let mut node = cluster.node_for_slot(slot).unwrap().connection().unwrap();
        let count: u64 = node.get(format!("{{{tag}}}:count")).unwrap();
        assert_eq!(count, logs[index].len() as u64, "{tag}");
        check_log_and_count(&mut node, tag, &logs[index]);
    }
    println!("cluster batches in waves: {wave_sent} invocations under the flushes");

    let flushes = flusher.finish();
    elapsed_ok(started, "cluster batches");
    assert!(flushes > 10, "only {flushes} flushes");
    assert_eq!(nodes.slot_map().primaries(), 3);
    for (index, tag) in large_tags.iter().enumerate() {
        let slot = redis_script_analysis::hash_slot(tag.as_bytes());
        let mut node = cluster.node_for_slot(slot).unwrap().connection().unwrap();
        let expected: Vec<String> = (1..=LARGE)
            .filter(|id| id % TAGS == index as u64)
            .map(|id| id.to_string())
            .collect();
        check_log_and_count(&mut node, tag, &expected);
    }

    let mut total = 0;
    for (index, tag) in tags.iter().enumerate() {
        let slot = redis_script_analysis::hash_slot(tag.as_bytes());
        let mut node = cluster.node_for_slot(slot).unwrap().connection().unwrap();
        let count: u64 = node.get(format!("{{{tag}}}:count")).unwrap();
        total += count;
        let expected: Vec<String> = (1..=INVOCATIONS)
            .filter(|id| id % TAGS == index as u64)
            .map(|id| id.to_string())
            .collect();
        assert_eq!(count, expected.len() as u64, "{tag}");
        check_log_and_count(&mut node, tag, &expected);
    }
    assert_eq!(total, INVOCATIONS);
    println!(
        "cluster batches: {INVOCATIONS} invocations, {flushes} flushes, {:?}",
        started.elapsed()
    );

    // The registry on the cluster: load every script on every node, then none is missing.
    let mut connection = cluster
        .client()
        .unwrap()
        .get_async_connection()
        .await
        .unwrap();
    let loads = redis_script::registry::load_all_cluster_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(loads.len(), 6, "every node, primaries and replicas");
    assert!(loads.iter().all(|node| node.is_loaded()), "{loads:?}");
    let missing = redis_script::registry::missing_async(&mut connection)
        .await
        .unwrap();
    assert!(missing.is_empty(), "{missing:?}");

    moved_and_ask_are_followed_and_nothing_runs_twice(&cluster, &mut nodes).await;
    a_slot_split_by_a_migration_runs_in_order_once_the_migration_completes(&cluster, &mut nodes)
        .await;
    waves_hold_a_slot_back_behind_a_refusal_and_follow_ask_and_moved_in_order(&cluster, &mut nodes)
        .await;
    a_scripts_own_redirect_like_error_is_its_reply_and_it_runs_once(&cluster, &mut nodes).await;
    a_slow_node_is_waited_for_and_a_timeout_stops_its_later_pipelines(&cluster, &mut nodes).await;
    a_killed_primary_fails_only_its_share_and_the_next_batch_finds_the_replica(
        &mut cluster,
        &mut nodes,
    )
    .await;
}

/// A primary dies: the batch reports its share as failed (I/O, never sent again, since it may
/// have run), the others succeed; the next batch reaches the promoted replica.
async fn a_killed_primary_fails_only_its_share_and_the_next_batch_finds_the_replica(
    cluster: &mut RedisCluster,
    nodes: &mut ClusterNodes,
) {
    let lists: Vec<String> = (0..32).map(|n| format!("{{failover{n}}}:log")).collect();
    let slot_of = |list: &String| redis_script_analysis::hash_slot(list.as_bytes());
    let victim = cluster.node_for_slot(slot_of(&lists[0])).unwrap().port();
    cluster.kill(victim);
    let promoted =
        tokio::task::block_in_place(|| cluster.wait_for_failover(victim, Duration::from_secs(30)))
            .expect("the replica takes over");

    let mut outcomes = Vec::new();
    for id in 1..=2u64 {
        let mut batch = ClusterBatch::new();
        let tickets: Vec<_> = lists
            .iter()
            .map(|list| batch.invoke(&AppendId { list, id }))
            .collect();
        let replies = batch.run_async(nodes).await.unwrap();
        outcomes.push(tickets.iter().map(|&t| replies.get(t)).collect::<Vec<_>>());
    }
    for (index, list) in lists.iter().enumerate() {
        let on_victim = cluster.node_for_slot(slot_of(list)).unwrap().port() == promoted;
        let first = &outcomes[0][index];
        match first {
            Ok(_) => {}
            Err(error) => assert!(on_victim, "{list}: failed but its node is alive: {error}"),
        }
        let second = outcomes[1][index]
            .as_ref()
            .unwrap_or_else(|e| panic!("{list}: {e}"));
        let log: Vec<u64> = cluster
            .node_for_slot(slot_of(list))
            .unwrap()
            .connection()
            .unwrap()
            .lrange(list, 0, -1)
            .unwrap();
        let expected: Vec<u64> = if first.is_ok() { vec![1, 2] } else { vec![2] };
        assert_eq!(log, expected, "{list}: ran exactly what succeeded");
        assert_eq!(*second as usize, expected.len());
    }
    assert!(
        outcomes[0].iter().any(Result::is_err),
        "the dead primary's share failed"
    );
}

/// A slot migrates while a batch holds a stale map: `ASK` during the migration, `MOVED` after.
async fn moved_and_ask_are_followed_and_nothing_runs_twice(
    cluster: &RedisCluster,
    nodes: &mut ClusterNodes,
) {
    const LIST: &str = "{moving}:log";
    let slot = redis_script_analysis::hash_slot(LIST.as_bytes());
    nodes.refresh().await.unwrap();
    let source = cluster.node_for_slot(slot).unwrap();
    let target = cluster
        .primaries()
        .into_iter()
        .find(|node| node.port() != source.port())
        .unwrap();
    let run = |node: &throwaway_redis::ClusterNode, args: &[&str]| {
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        command.exec(&mut node.connection().unwrap()).unwrap();
    };
    let slot_text = slot.to_string();
    run(
        target,
        &[
            "CLUSTER",
            "SETSLOT",
            &slot_text,
            "IMPORTING",
            source.node_id(),
        ],
    );
    run(
        source,
        &[
            "CLUSTER",
            "SETSLOT",
            &slot_text,
            "MIGRATING",
            target.node_id(),
        ],
    );

    // The key does not exist on the source, which therefore answers ASK.
    let mut batch = ClusterBatch::new();
    let tickets: Vec<_> = (1..=10)
        .map(|id| batch.invoke(&AppendId { list: LIST, id }))
        .collect();
    let replies = batch.run_async(nodes).await.unwrap();
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(
        counts,
        (1..=10).collect::<Vec<_>>(),
        "ASK: each once, in order"
    );

    for node in cluster.primaries() {
        run(
            node,
            &["CLUSTER", "SETSLOT", &slot_text, "NODE", target.node_id()],
        );
    }
    // The batch's map (fetched during the migration) still names the source, which now
    // answers MOVED; a key of the source's own slots shares the pipeline and runs there.
    let stays = (0..10_000)
        .map(|n| format!("{{stays{n}}}:log"))
        .find(|key| {
            let slot = redis_script_analysis::hash_slot(key.as_bytes());
            cluster.node_for_slot(slot).unwrap().port() == source.port()
        })
        .unwrap();
    assert_eq!(
        nodes.slot_map().primary(slot),
        Some(format!("127.0.0.1:{}", source.port()))
    );
    let mut batch = ClusterBatch::new();
    let mut tickets = Vec::new();
    for id in 11..=20 {
        tickets.push(batch.invoke(&AppendId { list: LIST, id }));
        batch.invoke(&AppendId { list: &stays, id });
    }
    let replies = batch.run_async(nodes).await.unwrap();
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(
        counts,
        (11..=20).collect::<Vec<_>>(),
        "MOVED: each once, in order"
    );
    let target_address = format!("127.0.0.1:{}", target.port());
    assert_eq!(
        nodes.slot_map().primary(slot),
        Some(target_address),
        "the map was refreshed"
    );

    let log: Vec<u64> = target.connection().unwrap().lrange(LIST, 0, -1).unwrap();
    assert_eq!(log, (1..=20).collect::<Vec<_>>());
    let stayed: Vec<u64> = source.connection().unwrap().lrange(&stays, 0, -1).unwrap();
    assert_eq!(
        stayed,
        (11..=20).collect::<Vec<_>>(),
        "the source's own ran once each"
    );

    // Why batches do not use the `redis` crate's cluster pipelines: with one reply MOVED, it
    // sends the whole pipeline again, to the node the MOVED names, and back, running the
    // commands that had already run again. This pins that behaviour of redis 1.8.
    let client = redis::cluster::ClusterClientBuilder::new(cluster.urls())
        .retries(2)
        .build()
        .unwrap();
    let mut connection = client.get_async_connection().await.unwrap();
    let bounced = format!("{stays}:bounced");
    let mut pipeline = redis::pipe();
    pipeline.add_command(
        AppendId {
            list: &bounced,
            id: 1,
        }
        .evalsha_command(),
    );
    pipeline.add_command(AppendId { list: LIST, id: 99 }.evalsha_command());
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(AppendId::SOURCE)
        .exec(&mut source.connection().unwrap())
        .unwrap();
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(AppendId::SOURCE)
        .exec(&mut target.connection().unwrap())
        .unwrap();
    let routing = redis::cluster_routing::SingleNodeRoutingInfo::ByAddress {
        host: "127.0.0.1".into(),
        port: source.port(),
    };
    let _ = connection.route_pipeline(pipeline, 0, 2, routing).await;
    let runs: usize = source.connection().unwrap().llen(&bounced).unwrap();
    println!("redis-rs route_pipeline with retries(2) ran an already-run command {runs} times");
    assert!(
        runs > 1,
        "redis-rs ran the first command {runs} time(s): if it no longer repeats \
        pipelines on MOVED, revisit the `batch` module documentation"
    );
}

/// Runs `args` on `node`.
/// Moves `keys` from `source` to `target` (`MIGRATE`), as a slot migration does key by key.
fn migrate_keys(source: &ClusterNode, target: &ClusterNode, keys: &[&str]) {
    let target_port = target.port().to_string();
    let mut args = vec![
        "MIGRATE",
        "127.0.0.1",
        &target_port,
        "",
        "0",
        "5000",
        "KEYS",
    ];
    args.extend_from_slice(keys);
    run_on(source, &args);
}

fn run_on(node: &throwaway_redis::ClusterNode, args: &[&str]) {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command
        .exec(&mut node.connection().unwrap())
        .unwrap_or_else(|error| panic!("{args:?} on {}: {error}", node.port()));
}

/// A slot migrates, and its keys are split: some already moved, some not. Multi-key
/// invocations of that slot can run on neither node (`TRYAGAIN`), but the others of the slot
/// could, and a plain pipeline would run those first. The batch runs none of the slot until
/// the migration completes, then all of them, once each, in the order added.
async fn a_slot_split_by_a_migration_runs_in_order_once_the_migration_completes(
    cluster: &RedisCluster,
    nodes: &mut ClusterNodes,
) {
    const TAG: &str = "split";
    const IDS: u64 = 20;
    let slot = redis_script_analysis::hash_slot(TAG.as_bytes());
    let source = cluster.node_for_slot(slot).unwrap();
    let target = cluster
        .primaries()
        .into_iter()
        .find(|node| node.port() != source.port())
        .unwrap();
    // Another slot, on the source too: it is not held up.
    let other = (0..10_000)
        .map(|n| format!("free{n}"))
        .find(|tag| {
            let other = redis_script_analysis::hash_slot(tag.as_bytes());
            other != slot && cluster.node_for_slot(other).unwrap().port() == source.port()
        })
        .unwrap();
    let (a, b, log) = ("{split}:a", "{split}:b", "{split}:log");
    run_on(source, &["SET", a, "0"]);
    run_on(source, &["SET", b, "0"]);
    run_on(source, &["RPUSH", log, "0"]);
    let slot_text = slot.to_string();
    run_on(
        target,
        &[
            "CLUSTER",
            "SETSLOT",
            &slot_text,
            "IMPORTING",
            source.node_id(),
        ],
    );
    run_on(
        source,
        &[
            "CLUSTER",
            "SETSLOT",
            &slot_text,
            "MIGRATING",
            target.node_id(),
        ],
    );
    let migrate = |keys: &[&str]| migrate_keys(source, target, keys);
    migrate(&[a]);
    nodes.refresh().await.unwrap();

    // Odd ids count with `a` (moved: TRYAGAIN), even ids with `b` (not moved: would run).
    let batch_of = |retry: Retry| {
        let mut batch = ClusterBatch::new().with_retry(retry);
        let mut tickets = Vec::new();
        for id in 1..=IDS {
            let counter = if id % 2 == 1 { "a" } else { "b" };
            let call = CountCall {
                tag: TAG,
                counter,
                log: "log",
                id,
            };
            tickets.push((id, batch.invoke(&call)));
            batch.invoke(&count_call(&other, id));
        }
        (batch, tickets)
    };

    // One round: nothing of the slot ran, and each reply says why; the other slot ran.
    let (batch, tickets) = batch_of(Retry {
        rounds: 1,
        ..Retry::default()
    });
    let replies = batch.run_async(nodes).await.unwrap();
    for &(id, ticket) in &tickets {
        let error = replies
            .get(ticket)
            .expect_err("nothing of the slot can run");
        let expected = if id % 2 == 1 { "TRYAGAIN" } else { "EXECABORT" };
        assert_eq!(error.code(), Some(expected), "invocation {id}: {error}");
    }
    let mut on_source = source.connection().unwrap();
    let logged: Vec<String> = on_source.lrange(log, 0, -1).unwrap();
    assert_eq!(logged, ["0"], "nothing of the slot ran");
    let others: Vec<u64> = on_source.lrange(format!("{{{other}}}:log"), 0, -1).unwrap();
    assert_eq!(others, (1..=IDS).collect::<Vec<_>>(), "the other slot ran");

    // Enough rounds: the migration completes while the batch waits between rounds.
    let finish = finish_migration_later(cluster, source, target, slot, [b, log]);
    let started = Instant::now();
    let (batch, tickets) = batch_of(Retry {
        rounds: 40,
        first_pause: Duration::from_millis(10),
        max_pause: Duration::from_millis(200),
    });
    let replies = batch.run_async(nodes).await.unwrap();
    let waited = started.elapsed();
    finish.await.unwrap();
    for &(id, ticket) in &tickets {
        let count = replies
            .get(ticket)
            .unwrap_or_else(|error| panic!("invocation {id}: {error}"));
        // Each counter counts its own invocations, in order.
        assert_eq!(count as u64, id.div_ceil(2), "invocation {id}");
    }
    assert!(
        waited >= Duration::from_millis(250),
        "the batch ran before the migration completed ({waited:?})"
    );
    let mut on_target = target.connection().unwrap();
    let logged: Vec<u64> = on_target.lrange(log, 0, -1).unwrap();
    assert_eq!(
        logged,
        (0..=IDS).collect::<Vec<_>>(),
        "every id once, in the order added"
    );
    let counts: (u64, u64) = (on_target.get(a).unwrap(), on_target.get(b).unwrap());
    assert_eq!(counts, (IDS / 2, IDS / 2));
    let others: Vec<u64> = on_source.lrange(format!("{{{other}}}:log"), 0, -1).unwrap();
    assert_eq!(
        others.len() as u64,
        2 * IDS,
        "the other slot ran once per batch"
    );
    println!("split slot: the batch waited {waited:?} for the migration");
}

/// Slots of a few invocations go in waves, each invocation only after the one before it in its
/// slot ran. While a slot migrates, an invocation refused (`TRYAGAIN`: its keys are split)
/// holds back the rest of its slot, which runs after it once the migration completes; after
/// an `ASK`, the rest goes to the target only if all of its keys have left the source; after
/// a `MOVED`, the rest follows in waves. Every step checks the logs: a wave sent before the
/// one before it ran, or sent with `ASKING` to where its keys are not, shows there.
async fn waves_hold_a_slot_back_behind_a_refusal_and_follow_ask_and_moved_in_order(
    cluster: &RedisCluster,
    nodes: &mut ClusterNodes,
) {
    const TAG: &str = "wsplit";
    let slot = redis_script_analysis::hash_slot(TAG.as_bytes());
    let source = cluster.node_for_slot(slot).unwrap();
    let target = cluster
        .primaries()
        .into_iter()
        .find(|node| node.port() != source.port())
        .unwrap();
    let (a, b, log) = ("{wsplit}:a", "{wsplit}:b", "{wsplit}:log");
    run_on(source, &["SET", a, "0"]);
    run_on(source, &["SET", b, "0"]);
    run_on(source, &["RPUSH", log, "0"]);
    let setslot = |node: &throwaway_redis::ClusterNode, slot: u16, how: &str, id: &str| {
        run_on(node, &["CLUSTER", "SETSLOT", &slot.to_string(), how, id]);
    };
    setslot(target, slot, "IMPORTING", source.node_id());
    setslot(source, slot, "MIGRATING", target.node_id());
    let migrate = |keys: &[&str]| migrate_keys(source, target, keys);
    migrate(&[a]);
    nodes.refresh().await.unwrap();

    // Four invocations of the slot (waves): odd positions count with `b` (on the source: they
    // run), even ones with `a` (moved: `TRYAGAIN` until the migration completes).
    let batch_of = |first: u64, retry: Retry| {
        let mut batch = ClusterBatch::new().with_retry(retry);
        let tickets: Vec<_> = (first..first + 4)
            .map(|id| {
                let counter = if (id - first).is_multiple_of(2) {
                    "b"
                } else {
                    "a"
                };
                let call = CountCall {
                    tag: TAG,
                    counter,
                    log: "log",
                    id,
                };
                batch.invoke(&call)
            })
            .collect();
        (batch, tickets)
    };
    let (batch, tickets) = batch_of(
        1,
        Retry {
            rounds: 1,
            ..Retry::default()
        },
    );
    let replies = batch.run_async(nodes).await.unwrap();
    assert_eq!(replies.get(tickets[0]).expect("ran first"), 1);
    let refused = replies.get(tickets[1]).expect_err("keys split");
    assert_eq!(refused.code(), Some("TRYAGAIN"), "{refused}");
    for &ticket in &tickets[2..] {
        let held = replies.get(ticket).expect_err("held back");
        assert!(!held.is_io_error(), "{held}");
        assert!(held.to_string().contains("not sent"), "{held}");
    }
    let logged: Vec<u64> = source.connection().unwrap().lrange(log, 0, -1).unwrap();
    assert_eq!(
        logged,
        [0, 1],
        "the first ran; nothing after the refused one"
    );

    // The migration completes while the batch waits between rounds: the rest runs after it.
    let finish = finish_migration_later(cluster, source, target, slot, [b, log]);
    let started = Instant::now();
    let (batch, tickets) = batch_of(
        5,
        Retry {
            rounds: 40,
            first_pause: Duration::from_millis(10),
            max_pause: Duration::from_millis(200),
        },
    );
    let replies = batch.run_async(nodes).await.unwrap();
    let waited = started.elapsed();
    finish.await.unwrap();
    let counts: Vec<i64> = tickets
        .iter()
        .map(|&ticket| replies.get(ticket).unwrap())
        .collect();
    // b: 1 before, then ids 5 and 7; a: ids 6 and 8.
    assert_eq!(counts, [2, 1, 3, 2], "each once, in order");
    assert!(
        waited >= Duration::from_millis(250),
        "the slot ran before the migration completed ({waited:?})"
    );
    let logged: Vec<u64> = target.connection().unwrap().lrange(log, 0, -1).unwrap();
    assert_eq!(
        logged,
        [0, 1, 5, 6, 7, 8],
        "every id once, in the order added"
    );

    // `ASK`: a slot whose one key has left the source (`gone`, absent there) and whose other
    // key is still there (`here`).
    const ASKED: &str = "wask";
    let slot = redis_script_analysis::hash_slot(ASKED.as_bytes());
    let source = cluster.node_for_slot(slot).unwrap();
    let target = cluster
        .primaries()
        .into_iter()
        .find(|node| node.port() != source.port())
        .unwrap();
    let (here, gone) = ("{wask}:here", "{wask}:gone");
    run_on(source, &["RPUSH", here, "0"]);
    setslot(target, slot, "IMPORTING", source.node_id());
    setslot(source, slot, "MIGRATING", target.node_id());
    nodes.refresh().await.unwrap();
    let appends = |lists: &[&'static str], first: u64, rounds: usize| {
        let mut batch = ClusterBatch::new().with_retry(Retry {
            rounds,
            first_pause: Duration::from_millis(5),
            max_pause: Duration::from_millis(20),
        });
        let tickets: Vec<_> = lists
            .iter()
            .zip(first..)
            .map(|(&list, id)| batch.invoke(&AppendId { list, id }))
            .collect();
        (batch, tickets)
    };
    // `gone` is answered `ASK`; `here` would run on the source, and on the target (with
    // `ASKING`) would start a new list there: neither may happen before `gone`'s first ran.
    let (batch, tickets) = appends(&[gone, here, gone], 1, 4);
    let replies = batch.run_async(nodes).await.unwrap();
    for &ticket in &tickets {
        assert!(replies.get(ticket).is_err(), "nothing of the slot can run");
    }
    let on_source: Vec<u64> = source.connection().unwrap().lrange(here, 0, -1).unwrap();
    assert_eq!(on_source, [0], "`here` did not run on the source");
    // The target serves the importing slot only after `ASKING`.
    let exists: (bool, bool) = redis::pipe()
        .cmd("ASKING")
        .ignore()
        .cmd("EXISTS")
        .arg(here)
        .cmd("ASKING")
        .ignore()
        .cmd("EXISTS")
        .arg(gone)
        .query(&mut target.connection().unwrap())
        .unwrap();
    assert_eq!(exists, (false, false), "nothing ran on the target");
    // Only `gone`: the rest goes to the target with `ASKING`, in order.
    let (batch, tickets) = appends(&[gone, gone, gone], 4, 4);
    let replies = batch.run_async(nodes).await.unwrap();
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(counts, [1, 2, 3], "ASK: each once, in order");

    // The migration completes; the map still names the source, which answers `MOVED`.
    let target_port = target.port().to_string();
    run_on(
        source,
        &[
            "MIGRATE",
            "127.0.0.1",
            &target_port,
            "",
            "0",
            "5000",
            "KEYS",
            here,
        ],
    );
    setslot(target, slot, "NODE", target.node_id());
    for node in cluster.primaries() {
        setslot(node, slot, "NODE", target.node_id());
    }
    assert_eq!(
        nodes.slot_map().primary(slot),
        Some(format!("127.0.0.1:{}", source.port()))
    );
    let (batch, tickets) = appends(&[here, gone, here], 7, 4);
    let replies = batch.run_async(nodes).await.unwrap();
    let counts: Vec<i64> = tickets.iter().map(|&t| replies.get(t).unwrap()).collect();
    assert_eq!(counts, [2, 4, 3], "MOVED: each once, in order");
    let mut on_target = target.connection().unwrap();
    let here_log: Vec<u64> = on_target.lrange(here, 0, -1).unwrap();
    let gone_log: Vec<u64> = on_target.lrange(gone, 0, -1).unwrap();
    assert_eq!((here_log, gone_log), (vec![0, 7, 9], vec![4, 5, 6, 8]));
}

/// A script that writes and then returns an error reply looking like a redirect or refusal
/// ran: it must not be sent again, and its error is its reply. Alone, only the server's exact
/// wording (and for `MOVED`/`ASK` the invocation's own slot) counts as a refusal; within a
/// slot's group, a script's reply comes inside `EXEC`'s and never counts.
async fn a_scripts_own_redirect_like_error_is_its_reply_and_it_runs_once(
    cluster: &RedisCluster,
    nodes: &mut ClusterNodes,
) {
    nodes.refresh().await.unwrap();
    let slot_of = |key: &str| redis_script_analysis::hash_slot(key.as_bytes());
    let port_of = |key: &str| cluster.node_for_slot(slot_of(key)).unwrap().port();
    let other_port = |key: &str| {
        cluster
            .primaries()
            .iter()
            .map(|node| node.port())
            .find(|&port| port != port_of(key))
            .unwrap()
    };
    let exact_tryagain = "TRYAGAIN Multiple keys request during rehashing of slot";
    // (list, error replies of its invocations in order; code)
    let mut cases: Vec<(String, Vec<String>, &str)> = Vec::new();
    let mut single = |n: usize, error: &dyn Fn(&str) -> String, code: &'static str| {
        let list = format!("{{fake{n}}}:log");
        let error = error(&list);
        cases.push((list, vec![error], code));
    };
    single(0, &|_| "TRYAGAIN later".into(), "TRYAGAIN");
    single(
        1,
        &|_| format!("{exact_tryagain}, says the script"),
        "TRYAGAIN",
    );
    single(
        2,
        &|list| format!("MOVED {} 127.0.0.1:{}", slot_of(list) ^ 1, other_port(list)),
        "MOVED",
    );
    single(
        3,
        &|list| format!("ASK {} 127.0.0.1:{} now", slot_of(list), other_port(list)),
        "ASK",
    );
    single(4, &|_| "LOADING soon".into(), "LOADING");
    single(5, &|_| "CLUSTERDOWN maybe".into(), "CLUSTERDOWN");
    single(
        6,
        &|_| {
            "READONLY You can't write against a read only replica. script: \
             897afd4d23ee70efe0ede1685c1c94834429da77, on @user_script:1."
                .into()
        },
        "READONLY",
    );
    // Two of one slot (a group): even the server's exact wordings are the scripts' replies.
    let group = "{fakegroup}:log".to_owned();
    let moved_exactly = format!("MOVED {} 127.0.0.1:{}", slot_of(&group), other_port(&group));
    cases.push((
        group.clone(),
        vec![exact_tryagain.to_owned(), moved_exactly],
        "",
    ));

    let mut batch = ClusterBatch::new();
    let mut tickets = Vec::new();
    for (list, errors, _) in &cases {
        for (id, error) in errors.iter().enumerate() {
            let call = WriteThenReplyError {
                list,
                id: id as u64 + 1,
                error,
            };
            tickets.push((list.clone(), error.clone(), batch.invoke(&call)));
        }
    }
    let replies = batch.run_async(nodes).await.unwrap();
    for (list, sent, ticket) in tickets {
        let error = replies
            .get(ticket)
            .expect_err("the script's error reply is its reply");
        let (code, detail) = sent.split_once(' ').unwrap_or((&sent, ""));
        // The library turns Redis's ` script: <sha1>, on @user_script:<line>.` into a location.
        let detail = detail.split(" script: ").next().unwrap_or(detail);
        assert_eq!(error.code(), Some(code), "{list}: {error}");
        assert!(
            error.to_string().contains(detail),
            "{list}: `{error}` is not the script's `{sent}`"
        );
    }
    for (list, errors, _) in &cases {
        let mut node = cluster
            .node_for_slot(slot_of(list))
            .unwrap()
            .connection()
            .unwrap();
        let logged: Vec<u64> = node.lrange(list, 0, -1).unwrap();
        assert_eq!(
            logged,
            (1..=errors.len() as u64).collect::<Vec<_>>(),
            "{list}: each ran exactly once ({errors:?})"
        );
    }
}

/// A node that answers late (here paused with `CLIENT PAUSE`) is waited for: no hidden
/// response timeout reports as failed what ran. With a timeout set, the pipeline in flight
/// fails as I/O (it may have run, and here it does), and the node's later pipelines are not
/// sent, which their error says.
async fn a_slow_node_is_waited_for_and_a_timeout_stops_its_later_pipelines(
    cluster: &RedisCluster,
    nodes: &mut ClusterNodes,
) {
    nodes.refresh().await.unwrap();
    let node = cluster.primaries()[0];
    let mut tags: Vec<String> = (0..100_000)
        .map(|n| format!("slow{n}"))
        .filter(|tag| {
            let slot = redis_script_analysis::hash_slot(tag.as_bytes());
            cluster.node_for_slot(slot).unwrap().port() == node.port()
        })
        .take(65)
        .collect();
    // Not one of the 64 tags counted below: its invocation only opens the connections.
    let warm_up_tag = tags.pop().unwrap();
    let pause = |millis: u64| run_on(node, &["CLIENT", "PAUSE", &millis.to_string(), "ALL"]);

    pause(800);
    let started = Instant::now();
    let mut batch = ClusterBatch::new();
    let ticket = batch.invoke(&count_call(&tags[0], 1));
    let replies = batch.run_async(nodes).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(replies.get(ticket).expect("waited for"), 1);
    assert!(waited >= Duration::from_millis(700), "{waited:?}");

    // 20,000 invocations of one node: three pipelines of at most 8,192 commands (a slot's group
    // is never split).
    nodes.set_response_timeout(Some(Duration::from_millis(200)));
    // Setting the timeout dropped the connections. They are made again before the pause: a
    // new connection's handshake (the `redis` crate's `CLIENT SETINFO`) is itself paused on
    // servers that have `CLIENT SETINFO` (Valkey, Redis 7.2+), and is bounded by the connection
    // timeout, not the response timeout, so the pipelines would only be sent once the pause
    // ended (Redis 7.0 refuses `CLIENT SETINFO` at once, paused or not).
    let mut batch = ClusterBatch::new();
    let warm_up = batch.invoke(&count_call(&warm_up_tag, 1));
    let replies = batch.run_async(nodes).await.unwrap();
    assert_eq!(replies.get(warm_up).expect("no pause yet"), 1);
    pause(700);
    let mut batch = ClusterBatch::new().with_retry(Retry {
        rounds: 1,
        ..Retry::default()
    });
    let tickets: Vec<_> = (0..20_000u64)
        .map(|id| {
            let tag = &tags[(id % tags.len() as u64) as usize];
            (tag, batch.invoke(&count_call(tag, 100 + id)))
        })
        .collect();
    let replies = batch.run_async(nodes).await.unwrap();
    nodes.set_response_timeout(None);
    let mut in_flight = std::collections::BTreeSet::new();
    let mut not_sent = std::collections::BTreeSet::new();
    for (tag, ticket) in &tickets {
        let error = replies.get(*ticket).expect_err("timed out or not sent");
        let outcome = replies.outcome(ticket.index());
        if error.is_io_error() {
            assert_eq!(outcome, Some(redis_script::Outcome::Unknown), "{tag}");
            assert_eq!(error.ran(), redis_script::Ran::Maybe, "{tag}: {error}");
            in_flight.insert(tag.as_str());
        } else {
            assert!(error.to_string().contains("not sent"), "{tag}: {error}");
            assert_eq!(outcome, Some(redis_script::Outcome::NotRun), "{tag}");
            assert_eq!(error.ran(), redis_script::Ran::No, "{tag}: {error}");
            not_sent.insert(tag.as_str());
        }
    }
    assert!(
        in_flight.is_disjoint(&not_sent),
        "a slot's group is sent whole"
    );
    assert!(
        !in_flight.is_empty() && !not_sent.is_empty(),
        "{in_flight:?} {not_sent:?}"
    );
    // What was in flight may have run (the connection was dropped with the commands unread,
    // so here it usually did not), each group whole or not at all; what was not sent did not.
    thread::sleep(Duration::from_millis(800));
    let mut connection = node.connection().unwrap();
    for tag in &tags {
        let count: Option<u64> = connection.get(format!("{{{tag}}}:count")).unwrap();
        let count = count.unwrap_or(0);
        let first_batch = u64::from(tag == &tags[0]);
        let group = tickets.iter().filter(|(t, _)| *t == tag).count() as u64;
        if in_flight.contains(tag.as_str()) {
            assert!(
                count == first_batch || count == first_batch + group,
                "{tag}: {count}, not all or nothing of {group}"
            );
        } else {
            assert_eq!(count, first_batch, "{tag}: not sent, yet it ran");
        }
    }

    // Changing the timeout dropped the connections: the next batch makes them again.
    let mut batch = ClusterBatch::new();
    let lists: Vec<String> = (0..32).map(|n| format!("{{reconnect{n}}}:log")).collect();
    let tickets: Vec<_> = lists
        .iter()
        .map(|list| batch.invoke(&AppendId { list, id: 1 }))
        .collect();
    let replies = batch.run_async(nodes).await.unwrap();
    for ticket in tickets {
        assert_eq!(replies.get(ticket).unwrap(), 1);
    }
}

/// The `INFO commandstats` call count of `EVALSHA` on a node.
fn evalsha_calls(connection: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(connection)
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}

/// A primary frozen (SIGSTOP, as in a hung VM) in the middle of a batch, with the default
/// settings: the batch returns after the default response timeout, not when the node wakes.
/// Every invocation sent to the frozen node is an I/O error that says it may have run; the
/// rest of a slot sent in waves, whose first invocation was in flight, says it was not sent;
/// everything else ran, once, in order. After the node wakes (demoted: its replica took over)
/// nothing ran twice, a slot sent in waves ran at most its first invocation and a transaction
/// all or nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_primary_holds_a_batch_no_longer_than_the_default_response_timeout() {
    // Invocations per tag, in turn: alone, in waves (2 to 4), one transaction (5 or more).
    const SHAPES: [u64; 3] = [1, 3, 8];
    const TAGS: usize = 4_500;
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap()
        .expect("the cluster");
    let mut nodes = ClusterNodes::connect(cluster.urls()[0].as_str())
        .await
        .unwrap();
    assert_eq!(nodes.response_timeout(), Some(DEFAULT_RESPONSE_TIMEOUT));
    let frozen = cluster.primaries()[0];
    let slot_of = |tag: &str| redis_script_analysis::hash_slot(tag.as_bytes());
    let on_frozen_now =
        |tag: &str| cluster.node_for_slot(slot_of(tag)).unwrap().port() == frozen.port();

    // Opens a connection to every primary and loads the script there: the batch below finds
    // its connection to the frozen node made, and writes its pipeline into it.
    let mut warm_up = ClusterBatch::new();
    let warm_tickets: Vec<_> = (0..30)
        .map(|n| warm_up.invoke(&count_call_large(&format!("warm{n}"), 0)))
        .collect();
    let replies = warm_up.run_async(&mut nodes).await.unwrap();
    for ticket in warm_tickets {
        assert_eq!(replies.get(ticket).expect("no freeze yet"), 1);
    }

    // (tag, ids) in the order added; each tag's ids ascend.
    // One tag per slot, so that each slot has its tag's shape.
    let mut used = std::collections::HashSet::new();
    let tags: Vec<String> = (0..)
        .map(|n| format!("frozen{n}"))
        .filter(|tag| used.insert(slot_of(tag)))
        .take(TAGS)
        .collect();
    // Before the freeze: its replica takes the slots over during it.
    let frozen_tags: Vec<bool> = tags.iter().map(|tag| on_frozen_now(tag)).collect();
    let mut batch = ClusterBatch::new();
    let mut tickets = Vec::new();
    let mut next_id = 1u64;
    for (index, tag) in tags.iter().enumerate() {
        for position in 1..=SHAPES[index % SHAPES.len()] {
            tickets.push((
                index,
                position,
                next_id,
                batch.invoke(&count_call_large(tag, next_id)),
            ));
            next_id += 1;
        }
    }
    let frozen_share = tickets
        .iter()
        .filter(|(index, ..)| frozen_tags[*index])
        .count();
    // One pipeline (at most 8,192 commands): all of it in flight when the node freezes.
    assert!((1_000..7_000).contains(&frozen_share), "{frozen_share}");

    // Freeze the node as soon as it has run a few of the batch's invocations.
    let mut watch = frozen.connection().unwrap();
    let before = evalsha_calls(&mut watch);
    let started = Instant::now();
    let (paused, replies) = std::thread::scope(|scope| {
        let freezer = scope.spawn(|| {
            while evalsha_calls(&mut watch) < before + 20 {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the batch never reached the node"
                );
            }
            frozen.pause()
        });
        // The bound of the old default (no response timeout): the node is frozen for good.
        let bound = DEFAULT_RESPONSE_TIMEOUT + Duration::from_secs(10);
        let replies = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(tokio::time::timeout(bound, batch.run_async(&mut nodes)))
        });
        (freezer.join().expect("the freezer"), replies)
    });
    let took = started.elapsed();
    let replies = replies
        .unwrap_or_else(|_| panic!("the batch did not return within {took:?} of a frozen node"))
        .expect("the batch");
    assert!(
        took >= DEFAULT_RESPONSE_TIMEOUT
            && took < DEFAULT_RESPONSE_TIMEOUT + Duration::from_secs(6),
        "the batch took {took:?}"
    );

    // Per tag, what each invocation was told.
    let mut may_have_run = 0;
    let mut not_sent = 0;
    for &(index, position, id, ticket) in &tickets {
        let tag = &tags[index];
        let shape = SHAPES[index % SHAPES.len()];
        match replies.get(ticket) {
            Ok(count) => {
                assert!(
                    !frozen_tags[index],
                    "{tag}/{id}: the frozen node answered {count}"
                );
                assert_eq!(count as u64, position, "{tag}/{id}: in order, once");
            }
            Err(error) => {
                assert!(frozen_tags[index], "{tag}/{id}: its node is alive: {error}");
                if shape == 3 && position > 1 {
                    // The rest of a slot sent in waves: held back, never sent.
                    assert!(!error.is_io_error(), "{tag}/{id}: {error}");
                    assert!(
                        error.to_string().contains("not sent"),
                        "{tag}/{id}: {error}"
                    );
                    assert!(
                        error.to_string().contains("may have run"),
                        "{tag}/{id}: {error}"
                    );
                    not_sent += 1;
                } else {
                    assert!(error.is_io_error(), "{tag}/{id}: {error}");
                    assert!(
                        error.to_string().contains("may have run"),
                        "{tag}/{id}: {error}"
                    );
                    may_have_run += 1;
                }
            }
        }
    }
    let waves_held: usize = tickets
        .iter()
        .filter(|(index, position, ..)| {
            frozen_tags[*index] && SHAPES[index % SHAPES.len()] == 3 && *position > 1
        })
        .count();
    assert_eq!(not_sent, waves_held);
    assert_eq!(
        may_have_run,
        frozen_share - waves_held,
        "each invocation to the frozen node"
    );

    // The node wakes, finds its replica promoted, and replicates from it.
    paused.resume();
    tokio::task::block_in_place(|| cluster.wait_until_stable(Duration::from_secs(60)))
        .expect("the cluster recovers");
    let mut ran_on_frozen = 0;
    for (index, tag) in tags.iter().enumerate() {
        let ids: Vec<u64> = tickets
            .iter()
            .filter(|(t, ..)| *t == index)
            .map(|(_, _, id, _)| *id)
            .collect();
        let mut connection = cluster
            .node_for_slot(slot_of(tag))
            .unwrap()
            .connection()
            .unwrap();
        let log: Vec<u64> = connection.lrange(format!("{{{tag}}}:log"), 0, -1).unwrap();
        let count: Option<u64> = connection.get(format!("{{{tag}}}:count")).unwrap();
        assert_eq!(
            count.unwrap_or(0),
            log.len() as u64,
            "{tag}: one count per run"
        );
        if !frozen_tags[index] {
            assert_eq!(log, ids, "{tag}: every invocation once, in order");
            continue;
        }
        // What ran on the frozen node before it froze, and reached its replica: no id twice.
        let allowed: &[u64] = match ids.len() {
            3 => &ids[..1],
            _ => &ids,
        };
        let prefix_or_nothing = log.is_empty()
            || (log.len() == ids.len() && log == ids)
            || (log.len() <= allowed.len() && log[..] == allowed[..log.len()]);
        assert!(prefix_or_nothing, "{tag}: {log:?} of {ids:?}");
        if ids.len() == 8 {
            assert!(
                log.is_empty() || log == ids,
                "{tag}: a transaction runs whole: {log:?}"
            );
        }
        ran_on_frozen += log.len();
    }
    println!(
        "frozen primary: the batch returned after {took:?}; {may_have_run} invocations may have \
        run, {not_sent} not sent; {ran_on_frozen} ran before the freeze and survived the failover"
    );
}

/// After 300 ms, on a thread of its own, moves the keys `[b, log]` from `source` to `target`
/// (`MIGRATE`) and gives `slot` to `target` on every primary, the target first, as Redis's
/// documentation orders it: the end of a migration a batch is waiting through.
fn finish_migration_later(
    cluster: &RedisCluster,
    source: &ClusterNode,
    target: &ClusterNode,
    slot: u16,
    [b, log]: [&'static str; 2],
) -> tokio::task::JoinHandle<()> {
    let (source_port, target_port) = (source.port(), target.port());
    let ports: Vec<u16> = cluster.primaries().iter().map(|node| node.port()).collect();
    let target_id = target.node_id().to_owned();
    tokio::task::spawn_blocking(move || {
        thread::sleep(Duration::from_millis(300));
        let connect = |port: u16| {
            redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection()
                .unwrap()
        };
        redis::cmd("MIGRATE")
            .arg("127.0.0.1")
            .arg(target_port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(b)
            .arg(log)
            .exec(&mut connect(source_port))
            .unwrap();
        let mut order = vec![target_port, source_port];
        order.extend(
            ports
                .iter()
                .filter(|&&port| port != target_port && port != source_port),
        );
        for port in order {
            redis::cmd("CLUSTER")
                .arg("SETSLOT")
                .arg(slot)
                .arg("NODE")
                .arg(&target_id)
                .exec(&mut connect(port))
                .unwrap();
        }
    })
}
