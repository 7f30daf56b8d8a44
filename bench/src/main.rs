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
const PIPELINE_CALLS: usize = 200_000;
const GUARD_CALLS: usize = 1_000_000;
const BATCH: usize = 10_000;
/// Rounds of the cluster batch row: each round of the sequential loop takes over a second.
const CLUSTER_ROUNDS: usize = 3;

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
            ours.len().to_string(),
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
    eprintln!("redis-server {redis_version}; measuring (about a minute)...");

    client_cost(&mut table);
    runtime.block_on(client_cost_async(&mut table));
    sequential_sync(&server, &mut table)?;
    runtime.block_on(concurrent_async(&server, &mut table))?;
    slot_guard(&server, &mut table)?;
    functions::run(&server, &runtime)?;
    for depth in [16, 64] {
        runtime.block_on(pipelines(&server, depth, &mut table))?;
    }
    drop(server);
    let cluster = RedisCluster::start()?;
    runtime.block_on(cluster_batch(&cluster, &mut table))?;

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
    let connection = server.client().get_multiplexed_async_connection().await?;
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

async fn pipelines(
    server: &RedisServer,
    depth: usize,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut connections = Vec::with_capacity(PIPELINE_CONNECTIONS);
    for _ in 0..PIPELINE_CONNECTIONS {
        connections.push(server.client().get_multiplexed_async_connection().await?);
    }
    let per_connection = PIPELINE_CALLS / PIPELINE_CONNECTIONS / depth;
    let total = per_connection * depth * PIPELINE_CONNECTIONS;
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(Incr::SOURCE)
        .query(&mut server.connection()?)?;
    // ScriptPipeline, ScriptTransaction, PipelineExt, hand-written EVALSHA, redis-benchmark.
    const BENCHMARK: usize = 4;
    let mut rates = vec![Vec::new(); 5];
    let mut benchmark_available = true;
    for round in 0..=ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            if variant == BENCHMARK {
                if !benchmark_available {
                    continue;
                }
                match redis_benchmark(server, depth, total) {
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
                    tokio::spawn(async move {
                        for _ in 0..per_connection {
                            match variant {
                                0 => {
                                    let mut pipeline = ScriptPipeline::new();
                                    let tickets: Vec<_> = (0..depth)
                                        .map(|_| pipeline.invoke(&Incr { counter: "pipe" }))
                                        .collect();
                                    let replies = pipeline
                                        .query_async(&mut connection)
                                        .await
                                        .expect("pipeline");
                                    for ticket in tickets {
                                        replies.get(ticket).expect("reply");
                                    }
                                }
                                1 => {
                                    let mut transaction = ScriptTransaction::new();
                                    let tickets: Vec<_> = (0..depth)
                                        .map(|_| transaction.invoke(&Incr { counter: "pipe" }))
                                        .collect();
                                    let replies = transaction
                                        .query_async(&mut connection)
                                        .await
                                        .expect("transaction")
                                        .expect("not watched");
                                    for ticket in tickets {
                                        replies.get(ticket).expect("reply");
                                    }
                                }
                                2 => {
                                    let mut pipeline = redis::pipe();
                                    for _ in 0..depth {
                                        pipeline.eval_script(&Incr { counter: "pipe" });
                                    }
                                    let replies: Vec<i64> = pipeline
                                        .query_async(&mut connection)
                                        .await
                                        .expect("PipelineExt pipeline");
                                    assert_eq!(replies.len(), depth);
                                }
                                _ => {
                                    let mut pipeline = redis::pipe();
                                    for _ in 0..depth {
                                        pipeline.cmd("EVALSHA").arg(Incr::SHA1).arg(1).arg("pipe");
                                    }
                                    let replies: Vec<i64> = pipeline
                                        .query_async(&mut connection)
                                        .await
                                        .expect("hand pipeline");
                                    assert_eq!(replies.len(), depth);
                                }
                            }
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
    let benchmark = benchmark_available.then_some(rates[BENCHMARK].as_slice());
    let what = |mode: &str| format!("pipeline depth {depth}, 50 connections: {mode}");
    for (variant, mode) in [
        "ScriptPipeline (EVAL)",
        "ScriptTransaction (MULTI, SCRIPT LOAD, EVALSHA)",
        "PipelineExt in a redis::Pipeline (EVAL)",
    ]
    .into_iter()
    .enumerate()
    {
        table.row(
            &what(mode),
            &rates[variant],
            "hand-written EVALSHA pipeline",
            Some(&rates[3]),
            Target::AtLeast(0.9),
        );
        table.row(
            &what(mode),
            &rates[variant],
            "redis-benchmark EVALSHA",
            benchmark,
            Target::AtLeast(0.9),
        );
    }
    table.row(
        &what("hand-written EVALSHA (no NOSCRIPT safety)"),
        &rates[3],
        "redis-benchmark EVALSHA",
        benchmark,
        Target::None,
    );
    Ok(())
}

/// One run of `redis-benchmark -c 50 -P depth -n total EVALSHA <sha> 1 rb`: the requests per
/// second it reports; why not, if the program is missing or fails.
fn redis_benchmark(server: &RedisServer, depth: usize, total: usize) -> Result<f64, String> {
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
            Incr::SHA1,
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

async fn cluster_batch(
    cluster: &RedisCluster,
    table: &mut Table,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = cluster.client()?;
    let connection = client.get_async_connection().await?;
    let mut nodes = ClusterNodes::connect(cluster.urls()[0].as_str()).await?;
    let keys: Vec<String> = (0..BATCH).map(|i| format!("batch:{i}")).collect();
    let keys = std::sync::Arc::new(keys);
    let mut rates = vec![Vec::new(); 3];
    for round in 0..=CLUSTER_ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            let started = Instant::now();
            match variant {
                0 => {
                    let mut batch = ClusterBatch::new();
                    let tickets: Vec<_> = keys
                        .iter()
                        .map(|key| batch.invoke(&Incr { counter: key }))
                        .collect();
                    let replies = batch.run_async(&mut nodes).await?;
                    for ticket in tickets {
                        replies.get(ticket)?;
                    }
                }
                1 => {
                    let mut connection = connection.clone();
                    for key in keys.iter() {
                        Incr { counter: key }.invoke_async(&mut connection).await?;
                    }
                }
                _ => {
                    let per_task = BATCH / ASYNC_TASKS;
                    let tasks: Vec<_> = (0..ASYNC_TASKS)
                        .map(|task| {
                            let mut connection = connection.clone();
                            let keys = keys.clone();
                            tokio::spawn(async move {
                                for key in &keys[task * per_task..(task + 1) * per_task] {
                                    Incr { counter: key }
                                        .invoke_async(&mut connection)
                                        .await
                                        .expect("invoke");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await?;
                    }
                }
            }
            if round > 0 {
                rates.push(BATCH as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
    let what = "10,000 invocations, 3-primary cluster: ClusterBatch";
    table.row(
        what,
        &rates[0],
        "sequential invoke_async loop",
        Some(&rates[1]),
        Target::None,
    );
    table.row(
        what,
        &rates[0],
        "50 concurrent tasks",
        Some(&rates[2]),
        Target::None,
    );
    Ok(())
}
