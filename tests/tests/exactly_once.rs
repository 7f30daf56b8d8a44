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
use redis_script::batch::{ClusterBatch, ClusterNodes};
use redis_script::{RedisScript, Script, ScriptPipeline, ScriptTransaction};
use throwaway_redis::{RedisCluster, RedisServer};

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
    let flushes = flusher.finish();
    elapsed_ok(started, "cluster batches");
    assert!(flushes > 10, "only {flushes} flushes");
    assert_eq!(nodes.slot_map().primaries(), 3);

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
