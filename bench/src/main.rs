//! `cargo run --release -p redis-script-bench`: redis-script against hand-written `EVALSHA`,
//! `redis::Script` and `redis-benchmark`, on a throwaway server and cluster it starts itself.
//! Prints one table of ratios (see `BENCHMARKS.md`). Every number is the median of several
//! rounds after a warm-up; the variants of one row alternate round by round, `redis-benchmark`
//! included. A ratio is the median of the per-round ratios (each round pairs the variants run
//! one after the other), with the lowest and highest round beside it.

mod functions;

use std::process::Command;
use std::time::Instant;

use redis::Value;
use redis_script::batch::{ClusterBatch, ClusterNodes};
use redis_script::{PipelineExt, RedisScript, Script, ScriptPipeline, ScriptTransaction};
use throwaway_redis::{RedisCluster, RedisServer};

#[derive(RedisScript)]
#[redis_script(path = "lua/incr.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

/// The same `INCR KEYS[1]` after 312 helper functions: 24.5 KB, 939 lines, the size of
/// production job-queue scripts, where sending the source per invocation costs the most.
#[derive(RedisScript)]
#[redis_script(path = "lua/incr_large.lua", returns = i64)]
struct IncrLarge<'a> {
    #[key]
    counter: &'a str,
}

/// Two keys proven co-located by their templates: the runtime slot guard checks each call.
#[derive(RedisScript)]
#[redis_script(path = "lua/incr_pair.lua", returns = i64)]
struct GuardedPair<'a> {
    tag: &'a str,
    #[key("{{{tag}}}:{}")]
    first: &'a str,
    #[key("{{{tag}}}:{}")]
    second: &'a str,
}

/// The same script and templates declared standalone-only: no slot guard.
#[derive(RedisScript)]
#[redis_script(path = "lua/incr_pair.lua", returns = i64, standalone_only)]
struct UnguardedPair<'a> {
    tag: &'a str,
    #[key("{{{tag}}}:{}")]
    first: &'a str,
    #[key("{{{tag}}}:{}")]
    second: &'a str,
}

/// Rounds of the client-cost, slot-guard and pipeline rows.
const ROUNDS: usize = 7;
/// Sequential calls per round, and rounds: short rounds, many of them, alternating, so that
/// drift (other processes, the VM's idle states) hits every variant alike.
const SEQUENTIAL_CALLS: usize = 2_000;
const SEQUENTIAL_ROUNDS: usize = 31;
const ASYNC_TASKS: usize = 50;
const ASYNC_CALLS: usize = 40_000;
const ASYNC_ROUNDS: usize = 21;
const PIPELINE_CONNECTIONS: usize = 50;
/// Rounds of the pipeline rows (each variant, after a warm-up round). With 5, a row's median
/// moved by up to 10 points from one run to the next on a shared 2-core machine.
const PIPELINE_ROUNDS: usize = 15;
const GUARD_CALLS: usize = 1_000_000;
const BATCH: usize = 10_000;
/// Rounds of the cluster batch rows: a batch takes 20 to 200 ms, so many rounds cost little.
/// On 2 cores shared with six servers, single rounds range from half to twice the median: the
/// median of 15 rounds moved by 5 points from one run to the next, that of 100 by about 2.
const CLUSTER_ROUNDS: usize = 100;
/// Rounds of the sequential loop beside them (the first ones): each takes over a second.
const CLUSTER_SEQUENTIAL_ROUNDS: usize = 3;

/// The rate (operations per second) of each measured round of one variant, warm-up excluded.
type Rounds = Vec<f64>;

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs each variant `ROUNDS` times, alternating, after one warm-up round each; returns the
/// rates of each.
fn compare(variants: &mut [&mut dyn FnMut() -> usize]) -> Vec<Rounds> {
    compare_rounds(ROUNDS, variants)
}

/// [`compare`] with `rounds` rounds.
fn compare_rounds(rounds: usize, variants: &mut [&mut dyn FnMut() -> usize]) -> Vec<Rounds> {
    for variant in variants.iter_mut() {
        variant();
    }
    let mut rates = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (variant, rates) in variants.iter_mut().zip(&mut rates) {
            let started = Instant::now();
            let operations = variant();
            rates.push(operations as f64 / started.elapsed().as_secs_f64());
        }
    }
    rates
}

struct Table {
    rows: Vec<[String; 7]>,
}

impl Table {
    /// One row: the medians of both, and the median of the per-round ratios with the lowest
    /// and highest round, judged on that median.
    fn row(
        &mut self,
        what: &str,
        ours: &[f64],
        baseline: &str,
        theirs: Option<&[f64]>,
        target: Target,
    ) {
        let (ratio, status) = match theirs {
            Some(theirs) => {
                let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
                let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                let high = ratios.iter().copied().fold(0.0, f64::max);
                (
                    format!(
                        "{:.1} % ({:.1}-{:.1})",
                        median(&ratios) * 100.0,
                        low * 100.0,
                        high * 100.0
                    ),
                    target.judge(&ratios),
                )
            }
            None => ("-".into(), "not measured".into()),
        };
        eprintln!("  {what}: {ours:?}/s vs {baseline} {theirs:?}");
        self.rows.push([
            what.into(),
            format!("{:.0}/s", median(ours)),
            format!(
                "{baseline} {}",
                theirs.map_or("(missing)".into(), |rates| format!(
                    "{:.0}/s",
                    median(rates)
                ))
            ),
            ratio,
            // The rounds paired into ratios (the sequential loop beside the cluster rows has
            // fewer than the batch).
            theirs
                .map_or(ours.len(), |theirs| theirs.len().min(ours.len()))
                .to_string(),
            target.describe(),
            status,
        ]);
    }

    fn note(&mut self, what: &str, ours: String, baseline: String, ratio: String, rounds: usize) {
        self.rows.push([
            what.into(),
            ours,
            baseline,
            ratio,
            rounds.to_string(),
            "-".into(),
            "-".into(),
        ]);
    }

    fn print(&self) {
        let header = [
            "measurement",
            "redis-script",
            "baseline",
            "ratio: median (lowest-highest round)",
            "rounds",
            "target",
            "status",
        ];
        println!("| {} |", header.join(" | "));
        println!("|{}", "---|".repeat(header.len()));
        for row in &self.rows {
            println!("| {} |", row.join(" | "));
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    /// At least this fraction of the baseline.
    AtLeast(f64),
    None,
}

impl Target {
    /// Met when the median round meets it; the rounds on the other side are counted.
    fn judge(self, ratios: &[f64]) -> String {
        let Target::AtLeast(minimum) = self else {
            return "-".into();
        };
        let below = ratios.iter().filter(|&&ratio| ratio < minimum).count();
        if median(ratios) >= minimum {
            if below == 0 {
                "met".into()
            } else {
                format!("met ({below} of {} rounds below)", ratios.len())
            }
        } else {
            let above = ratios.len() - below;
            if above == 0 {
                "NOT met".into()
            } else {
                format!("NOT met ({above} of {} rounds above)", ratios.len())
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtLeast(minimum) => format!(">= {:.0} %", minimum * 100.0),
            Target::None => "-".into(),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let server = RedisServer::start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut table = Table { rows: Vec::new() };
    let redis_version = server_version(&server)?;
    eprintln!("redis-server {redis_version}; measuring (a quarter of an hour in all)...");

    // `BENCH_ONLY=cluster` (or `pipelines`, `sync-pipelines`, `calls`, `functions`, `flush`) runs one part, for
    // quick checks.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only == name;
    if part("calls") {
        client_cost(&mut table);
        runtime.block_on(client_cost_async(&mut table));
        sequential_sync(&server, &mut table)?;
        runtime.block_on(concurrent_async(&server, &mut table))?;
        slot_guard(&server, &mut table)?;
    }
    if part("functions") {
        functions::run(&server, &runtime)?;
    }
    let tiny = Subject {
        label: "81-byte script",
        make: |counter| Incr { counter },
        tiny: true,
    };
    let large = Subject {
        label: "24.5 KB script",
        make: |counter| IncrLarge { counter },
        tiny: false,
    };
    if part("pipelines") {
        for depth in [1, 16, 100] {
            runtime.block_on(pipelines(&server, tiny, depth, &mut table))?;
            runtime.block_on(pipelines(&server, large, depth, &mut table))?;
        }
    }
    if part("sync-pipelines") {
        // `BENCH_SYNC_DEPTHS=2000` (comma-separated) measures only those depths.
        let depths: Vec<usize> = std::env::var("BENCH_SYNC_DEPTHS")
            .ok()
            .map(|depths| {
                depths
                    .split(',')
                    .filter_map(|depth| depth.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_else(|| vec![16, 100, 2_000]);
        for depth in depths {
            sync_pipelines(&server, tiny, depth, &mut table)?;
            sync_pipelines(&server, large, depth, &mut table)?;
        }
    }
    if part("flush") {
        first_call_after_flush(&server, &mut table)?;
        runtime.block_on(storm_bytes(&server, &mut table))?;
    }
    drop(server);
    if part("cluster") {
        let cluster = RedisCluster::start()?;
        runtime.block_on(cluster_batches(&cluster, tiny, &mut table))?;
        runtime.block_on(cluster_batches(&cluster, large, &mut table))?;
    }

    println!();
    table.print();
    println!();
    println!(
        "redis-server {redis_version}, {} cores, each number the median of the row's rounds \
         (after a warm-up round), total {:.0?}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed()
    );
    Ok(())
}

/// A multiplexed connection without the `redis` crate's default 500 ms response timeout, which
/// fails deep pipelines of the large script when other processes load the machine.
async fn untimed(client: &redis::Client) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

fn server_version(server: &RedisServer) -> Result<String, Box<dyn std::error::Error>> {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut server.connection()?)?;
    Ok(info
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_owned())
}

fn sequential_sync(
    server: &RedisServer,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    // One connection per variant, so that the closures can each hold theirs.
    let (mut a, mut b, mut c) = (
        server.connection()?,
        server.connection()?,
        server.connection()?,
    );
    let script = redis::Script::new(Incr::SOURCE);
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(Incr::SOURCE)
        .query(&mut a)?;
    let mut ours = || {
        for _ in 0..SEQUENTIAL_CALLS {
            Incr { counter: "seq" }.invoke(&mut a).expect("invoke");
        }
        SEQUENTIAL_CALLS
    };
    let mut hand = || {
        for _ in 0..SEQUENTIAL_CALLS {
            let _: i64 = redis::cmd("EVALSHA")
                .arg(Incr::SHA1)
                .arg(1)
                .arg("seq")
                .query(&mut b)
                .expect("EVALSHA");
        }
        SEQUENTIAL_CALLS
    };
    let mut peer = || {
        for _ in 0..SEQUENTIAL_CALLS {
            let _: i64 = script.key("seq").invoke(&mut c).expect("redis::Script");
        }
        SEQUENTIAL_CALLS
    };
    let rates = compare_rounds(SEQUENTIAL_ROUNDS, &mut [&mut ours, &mut hand, &mut peer]);
    let what = "sequential sync, 1 connection";
    table.row(
        what,
        &rates[0],
        "hand-written EVALSHA",
        Some(&rates[1]),
        Target::AtLeast(0.97),
    );
    table.row(
        what,
        &rates[0],
        "redis::Script",
        Some(&rates[2]),
        Target::AtLeast(1.0),
    );
    Ok(())
}

async fn concurrent_async(
    server: &RedisServer,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    let connection = untimed(&server.client()).await?;
    let script = std::sync::Arc::new(redis::Script::new(Incr::SOURCE));
    let per_task = ASYNC_CALLS / ASYNC_TASKS;
    let mut rates = vec![Vec::new(); 3];
    for round in 0..=ASYNC_ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            let started = Instant::now();
            let tasks: Vec<_> = (0..ASYNC_TASKS)
                .map(|_| {
                    let mut connection = connection.clone();
                    let script = script.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            let ok = match variant {
                                0 => Incr { counter: "async" }
                                    .invoke_async(&mut connection)
                                    .await
                                    .is_ok(),
                                1 => redis::cmd("EVALSHA")
                                    .arg(Incr::SHA1)
                                    .arg(1)
                                    .arg("async")
                                    .query_async::<i64>(&mut connection)
                                    .await
                                    .is_ok(),
                                _ => script
                                    .key("async")
                                    .invoke_async::<i64>(&mut connection)
                                    .await
                                    .is_ok(),
                            };
                            assert!(ok, "an async invocation failed");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await?;
            }
            if round > 0 {
                rates.push((per_task * ASYNC_TASKS) as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
    let what = "50 async tasks, 1 multiplexed connection";
    table.row(
        what,
        &rates[0],
        "hand-written EVALSHA",
        Some(&rates[1]),
        Target::AtLeast(0.97),
    );
    table.row(
        what,
        &rates[0],
        "redis::Script",
        Some(&rates[2]),
        Target::AtLeast(1.0),
    );
    Ok(())
}

/// A connection that answers every command with `1` at once: measures what the library does
/// per call, without the network.
struct Instant1;

impl redis::ConnectionLike for Instant1 {
    fn req_packed_command(&mut self, _: &[u8]) -> redis::RedisResult<Value> {
        Ok(Value::Int(1))
    }
    fn req_packed_commands(
        &mut self,
        _: &[u8],
        _: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<Value>> {
        Ok(vec![Value::Int(1); count])
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

/// What each way of invoking costs the client per call, without the network: the part of a
/// call the library decides (building the command, the reply's conversion).
fn client_cost(table: &mut Table) {
    let script = redis::Script::new(Incr::SOURCE);
    let (mut a, mut b, mut c) = (Instant1, Instant1, Instant1);
    let mut ours = || {
        for _ in 0..GUARD_CALLS {
            let counter = std::hint::black_box("seq");
            std::hint::black_box(Incr { counter }.invoke(&mut a).ok());
        }
        GUARD_CALLS
    };
    let mut hand = || {
        for _ in 0..GUARD_CALLS {
            let counter = std::hint::black_box("seq");
            let reply: redis::RedisResult<i64> = redis::cmd("EVALSHA")
                .arg(Incr::SHA1)
                .arg(1)
                .arg(counter)
                .query(&mut b);
            std::hint::black_box(reply.ok());
        }
        GUARD_CALLS
    };
    let mut peer = || {
        for _ in 0..GUARD_CALLS {
            let counter = std::hint::black_box("seq");
            let reply: redis::RedisResult<i64> = script.key(counter).invoke(&mut c);
            std::hint::black_box(reply.ok());
        }
        GUARD_CALLS
    };
    let rates = compare(&mut [&mut ours, &mut hand, &mut peer]);
    let what = "client-side cost per call (no network)";
    table.row(
        what,
        &rates[0],
        "hand-written EVALSHA",
        Some(&rates[1]),
        Target::AtLeast(0.97),
    );
    table.row(
        what,
        &rates[0],
        "redis::Script",
        Some(&rates[2]),
        Target::AtLeast(1.0),
    );
}

impl redis::aio::ConnectionLike for Instant1 {
    fn req_packed_command<'a>(&'a mut self, _: &'a redis::Cmd) -> redis::RedisFuture<'a, Value> {
        Box::pin(async { Ok(Value::Int(1)) })
    }
    fn req_packed_commands<'a>(
        &'a mut self,
        _: &'a redis::Pipeline,
        _: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        Box::pin(async move { Ok(vec![Value::Int(1); count]) })
    }
    fn get_db(&self) -> i64 {
        0
    }
}

/// [`client_cost`] for `invoke_async`, `query_async` and `redis::Script::invoke_async`.
async fn client_cost_async(table: &mut Table) {
    let script = redis::Script::new(Incr::SOURCE);
    let mut fake = Instant1;
    let mut rates = vec![Vec::new(); 3];
    for round in 0..=ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..GUARD_CALLS {
                let counter = std::hint::black_box("seq");
                let ok = match variant {
                    0 => Incr { counter }.invoke_async(&mut fake).await.is_ok(),
                    1 => redis::cmd("EVALSHA")
                        .arg(Incr::SHA1)
                        .arg(1)
                        .arg(counter)
                        .query_async::<i64>(&mut fake)
                        .await
                        .is_ok(),
                    _ => script
                        .key(counter)
                        .invoke_async::<i64>(&mut fake)
                        .await
                        .is_ok(),
                };
                std::hint::black_box(ok);
            }
            if round > 0 {
                rates.push(GUARD_CALLS as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
    let what = "client-side cost per async call (no network)";
    table.row(
        what,
        &rates[0],
        "hand-written EVALSHA",
        Some(&rates[1]),
        Target::AtLeast(0.97),
    );
    table.row(
        what,
        &rates[0],
        "redis::Script",
        Some(&rates[2]),
        Target::AtLeast(1.0),
    );
}

fn slot_guard(server: &RedisServer, table: &mut Table) -> Result<(), Box<dyn std::error::Error>> {
    let mut fake = Instant1;
    let mut guarded = || {
        for _ in 0..GUARD_CALLS {
            let pair = GuardedPair {
                tag: std::hint::black_box("user:1"),
                first: "a",
                second: "b",
            };
            std::hint::black_box(pair.invoke(&mut fake).ok());
        }
        GUARD_CALLS
    };
    let mut fake = Instant1;
    let mut unguarded = || {
        for _ in 0..GUARD_CALLS {
            let pair = UnguardedPair {
                tag: std::hint::black_box("user:1"),
                first: "a",
                second: "b",
            };
            std::hint::black_box(pair.invoke(&mut fake).ok());
        }
        GUARD_CALLS
    };
    let rates = compare(&mut [&mut guarded, &mut unguarded]);
    let rates = [median(&rates[0]), median(&rates[1])];
    let per_call = |rate: f64| 1e9 / rate;
    let guard_ns = per_call(rates[0]) - per_call(rates[1]);
    // The same invocation against the real server, for scale.
    let mut con = server.connection()?;
    let real = compare(&mut [&mut || {
        for _ in 0..SEQUENTIAL_CALLS {
            let pair = GuardedPair {
                tag: "user:1",
                first: "a",
                second: "b",
            };
            assert!(pair.invoke(&mut con).is_ok());
        }
        SEQUENTIAL_CALLS
    }]);
    let real = median(&real[0]);
    table.note(
        "slot guard, 2-key templated script (no network)",
        format!("{:.0} ns/call with guard", per_call(rates[0])),
        format!(
            "{:.0} ns/call without (same templates, standalone_only)",
            per_call(rates[1])
        ),
        format!(
            "guard {guard_ns:.0} ns = {:.2} % of a real call ({:.1} µs)",
            100.0 * guard_ns / per_call(real),
            per_call(real) / 1000.0
        ),
        ROUNDS,
    );
    Ok(())
}

/// A script the pipeline and cluster rows run: the one-line `Incr` or the 24.5 KB `IncrLarge`.
struct Subject<S> {
    label: &'static str,
    make: fn(&'static str) -> S,
    /// Whether to run the variants that send the source per invocation (`EVAL`), which take
    /// too long with the large script, and `redis-benchmark`.
    tiny: bool,
}

// By hand: a derive would ask `S: Copy`, and only the function pointer is copied.
impl<S> Clone for Subject<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Subject<S> {}

/// Invocations per round of a pipeline row: enough for the slowest variant to take a few
/// hundred milliseconds.
fn pipeline_calls(tiny: bool, depth: usize) -> usize {
    match (tiny, depth) {
        (true, 1) => 40_000,
        (true, _) => 160_000,
        (false, 1) => 20_000,
        (false, _) => 60_000,
    }
}

async fn pipelines<S>(
    server: &RedisServer,
    subject: Subject<S>,
    depth: usize,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: Script<Output = i64> + Send + 'static,
{
    let mut connections = Vec::with_capacity(PIPELINE_CONNECTIONS);
    for _ in 0..PIPELINE_CONNECTIONS {
        connections.push(untimed(&server.client()).await?);
    }
    let calls = pipeline_calls(subject.tiny, depth);
    let per_connection = calls / PIPELINE_CONNECTIONS / depth;
    let total = per_connection * depth * PIPELINE_CONNECTIONS;
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(S::SOURCE)
        .query(&mut server.connection()?)?;
    let peer = std::sync::Arc::new(redis::Script::new(S::SOURCE));
    // See `VARIANTS`; the baseline is HAND.
    const HAND: usize = 4;
    const EVAL_EXT: usize = 7;
    const BENCHMARK: usize = 8;
    let mut rates = vec![Vec::new(); 9];
    let mut benchmark_available = subject.tiny;
    eprintln!("  pipelines, {}, depth {depth}...", subject.label);
    for round in 0..=PIPELINE_ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            if variant == EVAL_EXT && !subject.tiny {
                continue;
            }
            if variant == BENCHMARK {
                if !benchmark_available {
                    continue;
                }
                match redis_benchmark(server, S::SHA1, depth, total) {
                    Ok(rate) if round > 0 => rates.push(rate),
                    Ok(_) => {}
                    Err(why) => {
                        eprintln!("{why}");
                        benchmark_available = false;
                    }
                }
                continue;
            }
            let started = Instant::now();
            let tasks: Vec<_> = connections
                .iter()
                .map(|connection| {
                    let mut connection = connection.clone();
                    let make = subject.make;
                    let peer = peer.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_connection {
                            let replies =
                                run_variant(variant, &mut connection, make, &peer, depth).await;
                            assert_eq!(replies, depth, "variant {variant}");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await?;
            }
            if round > 0 {
                rates.push(total as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
    let what = |mode: &str| {
        format!(
            "pipeline depth {depth}, 50 connections, {}: {mode}",
            subject.label
        )
    };
    for (variant, mode, target) in [
        (
            0,
            "ScriptPipeline (EVALSHA, recovered)",
            Target::AtLeast(0.9),
        ),
        (
            2,
            "PipelineExt::evalsha_script + query_scripts",
            Target::AtLeast(0.9),
        ),
        (
            1,
            "ScriptTransaction (MULTI, SCRIPT LOAD, EVALSHA, EXEC)",
            Target::None,
        ),
        (
            5,
            "hand-written MULTI, EVAL, EVALSHA..., EXEC (EVAL instead of SCRIPT LOAD)",
            Target::None,
        ),
        (
            6,
            "hand-written MULTI, EVALSHA..., EXEC (no load: unsafe)",
            Target::None,
        ),
        (
            3,
            "redis::Pipeline + invoke_script (redis::Script, pre-loaded, no recovery)",
            Target::None,
        ),
        (EVAL_EXT, "PipelineExt::eval_script (EVAL)", Target::None),
    ] {
        if rates[variant].is_empty() {
            continue;
        }
        table.row(
            &what(mode),
            &rates[variant],
            "hand-written EVALSHA pipeline",
            Some(&rates[HAND]),
            target,
        );
    }
    if subject.tiny {
        let benchmark = benchmark_available.then_some(rates[BENCHMARK].as_slice());
        table.row(
            &what("hand-written EVALSHA pipeline (no NOSCRIPT safety)"),
            &rates[HAND],
            "redis-benchmark EVALSHA",
            benchmark,
            Target::None,
        );
    }
    Ok(())
}

/// Invocations per round of a synchronous pipeline row: a few hundred milliseconds each.
fn sync_pipeline_calls(tiny: bool) -> usize {
    if tiny { 100_000 } else { 20_000 }
}

/// Rounds of the synchronous pipeline rows: one connection is at the mercy of every other
/// process on the machine, so more rounds than the other pipeline rows.
const SYNC_PIPELINE_ROUNDS: usize = 15;

/// Pipelines of `depth` invocations sent back to back on one synchronous `redis::Connection`
/// per variant: `ScriptPipeline::query` and `query_scripts` against a hand-written
/// `redis::Pipeline` of `EVALSHA`s, the script pre-loaded. This is the path whose first round
/// goes out in chunks (see `pipeline::chunks` in the library).
fn sync_pipelines<S>(
    server: &RedisServer,
    subject: Subject<S>,
    depth: usize,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: Script<Output = i64>,
{
    const KEY: &str = "sync-pipe";
    let (mut a, mut b, mut c) = (
        server.connection()?,
        server.connection()?,
        server.connection()?,
    );
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(S::SOURCE)
        .query(&mut a)?;
    let pipelines = (sync_pipeline_calls(subject.tiny) / depth).max(1);
    let make = subject.make;
    eprintln!("  sync pipelines, {}, depth {depth}...", subject.label);
    let mut ours = || {
        let mut pipeline = ScriptPipeline::new();
        let tickets: Vec<_> = (0..depth).map(|_| pipeline.invoke(&make(KEY))).collect();
        let replies = pipeline.query(&mut a).expect("pipeline");
        for &ticket in &tickets {
            replies.get(ticket).expect("reply");
        }
    };
    let mut ext = || {
        let mut pipeline = redis::pipe();
        for _ in 0..depth {
            pipeline.evalsha_script(&make(KEY));
        }
        let replies: Vec<i64> = pipeline.query_scripts(&mut b).expect("query_scripts");
        assert_eq!(replies.len(), depth);
    };
    let mut hand = || {
        let mut pipeline = redis::pipe();
        for _ in 0..depth {
            pipeline.cmd("EVALSHA").arg(S::SHA1).arg(1).arg(KEY);
        }
        let replies: Vec<i64> = pipeline.query(&mut c).expect("hand pipeline");
        assert_eq!(replies.len(), depth);
    };
    // The variants alternate pipeline by pipeline, not round by round: on one connection a
    // round is short, and the machine's other load would otherwise decide the ratio.
    let mut variants: [&mut dyn FnMut(); 3] = [&mut ours, &mut ext, &mut hand];
    let mut rates = vec![Vec::new(); variants.len()];
    for round in 0..=SYNC_PIPELINE_ROUNDS {
        let mut took = [std::time::Duration::ZERO; 3];
        for _ in 0..pipelines {
            for (variant, took) in variants.iter_mut().zip(&mut took) {
                let started = Instant::now();
                variant();
                *took += started.elapsed();
            }
        }
        if round > 0 {
            for (rates, took) in rates.iter_mut().zip(took) {
                rates.push((pipelines * depth) as f64 / took.as_secs_f64());
            }
        }
    }
    let what = |mode: &str| {
        format!(
            "sync pipeline depth {depth}, 1 connection, {}: {mode}",
            subject.label
        )
    };
    table.row(
        &what("ScriptPipeline::query"),
        &rates[0],
        "hand-written EVALSHA pipeline",
        Some(&rates[2]),
        Target::AtLeast(0.9),
    );
    table.row(
        &what("PipelineExt::query_scripts"),
        &rates[1],
        "hand-written EVALSHA pipeline",
        Some(&rates[2]),
        Target::AtLeast(0.9),
    );
    Ok(())
}

/// One pipeline (or transaction) of `depth` invocations of the given variant; returns the
/// number of replies.
async fn run_variant<S>(
    variant: usize,
    connection: &mut redis::aio::MultiplexedConnection,
    make: fn(&'static str) -> S,
    peer: &redis::Script,
    depth: usize,
) -> usize
where
    S: Script<Output = i64>,
{
    const KEY: &str = "pipe";
    match variant {
        0 => {
            let mut pipeline = ScriptPipeline::new();
            let tickets: Vec<_> = (0..depth).map(|_| pipeline.invoke(&make(KEY))).collect();
            let replies = pipeline.query_async(connection).await.expect("pipeline");
            for &ticket in &tickets {
                replies.get(ticket).expect("reply");
            }
            tickets.len()
        }
        1 => {
            let mut transaction = ScriptTransaction::new();
            let tickets: Vec<_> = (0..depth).map(|_| transaction.invoke(&make(KEY))).collect();
            let replies = transaction
                .query_async(connection)
                .await
                .expect("transaction")
                .expect("not watched");
            for &ticket in &tickets {
                replies.get(ticket).expect("reply");
            }
            tickets.len()
        }
        2 => {
            let mut pipeline = redis::pipe();
            for _ in 0..depth {
                pipeline.evalsha_script(&make(KEY));
            }
            let replies: Vec<i64> = pipeline
                .query_scripts_async(connection)
                .await
                .expect("query_scripts");
            replies.len()
        }
        3 => {
            let mut pipeline = redis::pipe();
            for _ in 0..depth {
                pipeline.invoke_script(&peer.key(KEY));
            }
            let replies: Vec<i64> = pipeline
                .query_async(connection)
                .await
                .expect("redis::Script pipeline");
            replies.len()
        }
        4 => {
            let mut pipeline = redis::pipe();
            for _ in 0..depth {
                pipeline.cmd("EVALSHA").arg(S::SHA1).arg(1).arg(KEY);
            }
            let replies: Vec<i64> = pipeline
                .query_async(connection)
                .await
                .expect("hand pipeline");
            replies.len()
        }
        5 | 6 => {
            let mut pipeline = redis::pipe();
            pipeline.atomic();
            for at in 0..depth {
                if at == 0 && variant == 5 {
                    pipeline.cmd("EVAL").arg(S::SOURCE).arg(1).arg(KEY);
                } else {
                    pipeline.cmd("EVALSHA").arg(S::SHA1).arg(1).arg(KEY);
                }
            }
            let replies: Vec<i64> = pipeline
                .query_async(connection)
                .await
                .expect("hand transaction");
            replies.len()
        }
        _ => {
            let mut pipeline = redis::pipe();
            for _ in 0..depth {
                pipeline.eval_script(&make(KEY));
            }
            let replies: Vec<i64> = pipeline
                .query_async(connection)
                .await
                .expect("PipelineExt::eval_script");
            replies.len()
        }
    }
}

/// The first call after a `SCRIPT FLUSH`, with the 24.5 KB script, one connection: what the
/// reload costs. Each sample flushes (not timed), then times one call.
fn first_call_after_flush(
    server: &RedisServer,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    const SAMPLES: usize = 200;
    let mut admin = server.connection()?;
    let mut con = server.connection()?;
    let peer = redis::Script::new(IncrLarge::SOURCE);
    let mut times = vec![Vec::new(); 4];
    for sample in 0..=SAMPLES {
        for (variant, times) in times.iter_mut().enumerate() {
            if variant < 3 {
                redis::cmd("SCRIPT").arg("FLUSH").exec(&mut admin)?;
            }
            let started = Instant::now();
            match variant {
                0 | 3 => {
                    IncrLarge { counter: "first" }.invoke(&mut con)?;
                }
                1 => {
                    let reply: redis::RedisResult<i64> = redis::cmd("EVALSHA")
                        .arg(IncrLarge::SHA1)
                        .arg(1)
                        .arg("first")
                        .query(&mut con);
                    assert!(reply.is_err(), "flushed");
                    let _: i64 = redis::cmd("EVAL")
                        .arg(IncrLarge::SOURCE)
                        .arg(1)
                        .arg("first")
                        .query(&mut con)?;
                }
                _ => {
                    let _: i64 = peer.key("first").invoke(&mut con)?;
                }
            }
            if sample > 0 {
                times.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let range = |times: &[f64]| {
        let low = times.iter().copied().fold(f64::INFINITY, f64::min);
        format!("median {:.0} µs (fastest {:.0})", median(times), low)
    };
    table.note(
        "first call after SCRIPT FLUSH, 24.5 KB script: invoke (NOSCRIPT, then SCRIPT LOAD + EVALSHA in one round trip)",
        range(&times[0]),
        format!(
            "EVALSHA then EVAL (the former fallback): {}; redis::Script (EVALSHA, SCRIPT LOAD, EVALSHA): {}; a cached call: {}",
            range(&times[1]),
            range(&times[2]),
            range(&times[3])
        ),
        format!(
            "{:.1} % of the EVAL fallback's time",
            100.0 * median(&times[0]) / median(&times[1])
        ),
        SAMPLES,
    );
    Ok(())
}

/// After a `SCRIPT FLUSH`, 50 tasks sharing one multiplexed connection each invoke the 24.5 KB
/// script once: the bytes the server receives (`total_net_input_bytes` after `CONFIG
/// RESETSTAT`) and the loads it runs, for `invoke_async` and `redis::Script::invoke_async`.
async fn storm_bytes(
    server: &RedisServer,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    const REPEATS: usize = 5;
    let connection = untimed(&server.client()).await?;
    let mut admin = server.connection()?;
    let peer = std::sync::Arc::new(redis::Script::new(IncrLarge::SOURCE));
    let mut results: Vec<Vec<(u64, u64, u64)>> = vec![Vec::new(); 2];
    for _ in 0..REPEATS {
        for (variant, results) in results.iter_mut().enumerate() {
            redis::cmd("SCRIPT").arg("FLUSH").exec(&mut admin)?;
            redis::cmd("CONFIG").arg("RESETSTAT").exec(&mut admin)?;
            let tasks: Vec<_> = (0..ASYNC_TASKS)
                .map(|_| {
                    let mut connection = connection.clone();
                    let peer = peer.clone();
                    tokio::spawn(async move {
                        if variant == 0 {
                            IncrLarge { counter: "storm" }
                                .invoke_async(&mut connection)
                                .await
                                .expect("invoke_async");
                        } else {
                            let _: i64 = peer
                                .key("storm")
                                .invoke_async(&mut connection)
                                .await
                                .expect("redis::Script");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await?;
            }
            let stats: String = redis::cmd("INFO").arg("stats").query(&mut admin)?;
            let commands: String = redis::cmd("INFO").arg("commandstats").query(&mut admin)?;
            let bytes = info_number(&stats, "total_net_input_bytes");
            let calls = |name: &str| {
                commands
                    .lines()
                    .find_map(|line| line.strip_prefix(&format!("cmdstat_{name}:calls=")))
                    .and_then(|rest| rest.split(',').next())
                    .and_then(|calls| calls.parse().ok())
                    .unwrap_or(0u64)
            };
            results.push((bytes, calls("script|load"), calls("eval")));
        }
    }
    let describe = |results: &[(u64, u64, u64)]| {
        let bytes: Vec<u64> = results.iter().map(|r| r.0).collect();
        let loads: Vec<u64> = results.iter().map(|r| r.1 + r.2).collect();
        format!(
            "{}-{} bytes, {}-{} source transfers",
            bytes.iter().min().unwrap_or(&0),
            bytes.iter().max().unwrap_or(&0),
            loads.iter().min().unwrap_or(&0),
            loads.iter().max().unwrap_or(&0)
        )
    };
    let ours = describe(&results[0]);
    let theirs = describe(&results[1]);
    table.note(
        "50 tasks, 1 connection, after SCRIPT FLUSH, 24.5 KB script: bytes the server received",
        format!("invoke_async: {ours}"),
        format!("redis::Script::invoke_async: {theirs}"),
        format!(
            "median {:.0} vs {:.0} bytes",
            median(&results[0].iter().map(|r| r.0 as f64).collect::<Vec<_>>()),
            median(&results[1].iter().map(|r| r.0 as f64).collect::<Vec<_>>())
        ),
        REPEATS,
    );
    Ok(())
}

fn info_number(info: &str, field: &str) -> u64 {
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

/// One run of `redis-benchmark -c 50 -P depth -n total EVALSHA <sha> 1 rb`: the requests per
/// second it reports; why not, if the program is missing or fails.
fn redis_benchmark(
    server: &RedisServer,
    sha1: &str,
    depth: usize,
    total: usize,
) -> Result<f64, String> {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args([
            "-c",
            &PIPELINE_CONNECTIONS.to_string(),
            "-P",
            &depth.to_string(),
        ])
        .args([
            "-n",
            &total.to_string(),
            "--csv",
            "EVALSHA",
            sha1,
            "1",
            "rb",
        ])
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            return Err(format!(
                "redis-benchmark failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Err(error) => {
            return Err(format!(
                "redis-benchmark is MISSING ({error}): install it (Debian: apt-get install -y \
                 redis-tools) to compare with it"
            ));
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter(|line| line.starts_with("\"EVALSHA"))
        .find_map(|line| {
            line.split("\",\"")
                .nth(1)?
                .trim_matches('"')
                .parse::<f64>()
                .ok()
        })
        .ok_or_else(|| format!("cannot read redis-benchmark's output: {text}"))
}

/// 10,000 invocations on the 3-primary cluster, over keys in 7,500-odd slots (most slots with
/// one to four invocations, which the batch sends alone or in waves) and over keys in 16 slots
/// (625 per slot: one `MULTI`/`EXEC` group each): `ClusterBatch` against a
/// hand-written baseline with the same grouping by primary (`SCRIPT LOAD` on every primary,
/// then one `EVALSHA` pipeline per primary, primaries concurrently) and against a sequential
/// `invoke_async` loop on `redis::cluster_async::ClusterConnection`.
async fn cluster_batches<S>(
    cluster: &RedisCluster,
    subject: Subject<S>,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: Script<Output = i64> + Send + 'static,
{
    let client = cluster.client()?;
    let connection = client.get_async_connection().await?;
    let mut nodes = ClusterNodes::connect(cluster.urls()[0].as_str()).await?;
    let mut primaries = std::collections::BTreeMap::new();
    for node in cluster.primaries() {
        let address = format!("127.0.0.1:{}", node.port());
        // No response timeout (`ClusterNodes` waits 15 s, which no batch here comes near): the
        // default 500 ms would fail a large pipeline on a loaded machine.
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let connection = redis::Client::open(format!("redis://{address}/"))?
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        primaries.insert(address, connection);
    }
    let spread: Vec<&'static str> = (0..BATCH)
        .map(|i| &*Box::leak(format!("batch:{i}").into_boxed_str()))
        .collect();
    let sixteen: Vec<&'static str> = (0..BATCH)
        .map(|i| &*Box::leak(format!("{{slot{}}}:{i}", i % 16).into_boxed_str()))
        .collect();
    for (keys, spread_label) in [
        (spread, "keys in many slots"),
        (sixteen, "keys in 16 slots"),
    ] {
        let slots: std::collections::BTreeSet<u16> = keys
            .iter()
            .map(|key| redis_script_analysis_slot(key))
            .collect();
        eprintln!(
            "  cluster batch, {}, {} slots...",
            subject.label,
            slots.len()
        );
        // The slot map the hand-written baselines route by, as any client holds one: the index
        // of each slot's primary. Grouping the keys by it is part of their measured work, as
        // it is of the batch's.
        let addresses: Vec<String> = primaries.keys().cloned().collect();
        let mut owner = vec![0usize; 16384];
        for (slot, owner) in owner.iter_mut().enumerate() {
            let primary = nodes
                .slot_map()
                .primary(slot as u16)
                .ok_or("a slot without a primary")?;
            *owner = addresses
                .iter()
                .position(|address| *address == primary)
                .ok_or("a primary the benchmark has no connection to")?;
        }
        let owner = &owner;
        let keys = &keys;
        // Each key's primary: what the plain hand-written baseline sends, in order.
        let by_primary = || {
            let mut shares: Vec<Vec<&'static str>> = vec![Vec::new(); addresses.len()];
            for &key in keys {
                shares[owner[usize::from(redis_script_analysis_slot(key))]].push(key);
            }
            shares
        };
        // The same per primary, each slot's invocations together, as the batch groups them.
        let by_primary_slot = || {
            let mut shares: Vec<Vec<Vec<&'static str>>> = vec![Vec::new(); addresses.len()];
            let mut group_of = vec![usize::MAX; 16384];
            for &key in keys {
                let slot = usize::from(redis_script_analysis_slot(key));
                let share = &mut shares[owner[slot]];
                if group_of[slot] == usize::MAX {
                    group_of[slot] = share.len();
                    share.push(Vec::new());
                }
                share[group_of[slot]].push(key);
            }
            shares
        };
        let mut rates = vec![Vec::new(); 4];
        for round in 0..=CLUSTER_ROUNDS {
            for (variant, rates) in rates.iter_mut().enumerate() {
                if variant == 2 && round > CLUSTER_SEQUENTIAL_ROUNDS {
                    continue;
                }
                let started = Instant::now();
                match variant {
                    0 => {
                        let mut batch = ClusterBatch::new();
                        let tickets: Vec<_> = keys
                            .iter()
                            .map(|key| batch.invoke(&(subject.make)(key)))
                            .collect();
                        let replies = batch.run_async(&mut nodes).await?;
                        for ticket in tickets {
                            replies.get(ticket)?;
                        }
                    }
                    1 => {
                        let shares = by_primary();
                        let runs = shares.iter().zip(&addresses).map(|(keys, address)| {
                            let mut connection = primaries[address].clone();
                            async move {
                                let mut pipeline = redis::pipe();
                                pipeline.cmd("SCRIPT").arg("LOAD").arg(S::SOURCE).ignore();
                                for key in keys {
                                    pipeline.cmd("EVALSHA").arg(S::SHA1).arg(1).arg(*key);
                                }
                                let replies: Vec<i64> =
                                    pipeline.query_async(&mut connection).await?;
                                assert_eq!(replies.len(), keys.len());
                                Ok::<_, redis::RedisError>(())
                            }
                        });
                        for result in futures_util::future::join_all(runs).await {
                            result?;
                        }
                    }
                    3 => {
                        let shares = by_primary_slot();
                        let runs = shares.iter().zip(&addresses).map(|(groups, address)| {
                            let mut connection = primaries[address].clone();
                            async move {
                                let mut pipeline = redis::pipe();
                                pipeline.cmd("SCRIPT").arg("LOAD").arg(S::SOURCE);
                                for keys in groups {
                                    if keys.len() > 1 {
                                        pipeline.cmd("MULTI");
                                    }
                                    for key in keys {
                                        pipeline.cmd("EVALSHA").arg(S::SHA1).arg(1).arg(*key);
                                    }
                                    if keys.len() > 1 {
                                        pipeline.cmd("EXEC");
                                    }
                                }
                                let replies = connection
                                    .send_packed_commands(&pipeline, 0, pipeline.len())
                                    .await?;
                                assert_eq!(replies.len(), pipeline.len());
                                Ok::<_, redis::RedisError>(())
                            }
                        });
                        for result in futures_util::future::join_all(runs).await {
                            result?;
                        }
                    }
                    _ => {
                        let mut connection = connection.clone();
                        for key in keys.iter() {
                            (subject.make)(key).invoke_async(&mut connection).await?;
                        }
                    }
                }
                if round > 0 {
                    rates.push(BATCH as f64 / started.elapsed().as_secs_f64());
                }
            }
        }
        let what = format!(
            "10,000 invocations, 3-primary cluster, {}, {spread_label} ({}): ClusterBatch",
            subject.label,
            slots.len()
        );
        table.row(
            &what,
            &rates[0],
            "hand-written: SCRIPT LOAD + EVALSHA pipeline per primary",
            Some(&rates[1]),
            Target::AtLeast(0.9),
        );
        table.row(
            &what,
            &rates[0],
            "hand-written: the same, each slot's invocations in MULTI/EXEC",
            Some(&rates[3]),
            Target::None,
        );
        table.row(
            &what,
            &rates[0],
            "sequential invoke_async loop",
            Some(&rates[2]),
            Target::None,
        );
    }
    Ok(())
}

/// The hash slot of a key (CRC16 of its hash tag, mod 16384), as Redis Cluster computes it.
fn redis_script_analysis_slot(key: &str) -> u16 {
    redis_script_analysis::hash_slot(key.as_bytes())
}
