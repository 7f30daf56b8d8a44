//! Redis 7 functions: a typed `FCALL` ([`redis_script::Function`]) against a hand-written
//! `redis::cmd("FCALL")` and against the same body as a typed `EVALSHA` script, in one run,
//! the variants alternating round by round. Prints its own table (same columns as the main
//! one), so that it depends on nothing else in this crate.

use std::time::Instant;

use redis_script::RedisScript;

use crate::{Instant1, compare_rounds, median};
use throwaway_redis::RedisServer;

type Failure = Box<dyn std::error::Error>;

/// `bench_incr` of `lua/functions/bench.lua`, written out as `#[derive(RedisFunction)]` writes
/// it.
struct FunctionIncr<'a> {
    counter: &'a str,
}

const _: () = {
    const __REDIS_FUNCTION_LIBRARY: &str = include_str!("../lua/functions/bench.lua");
    const __REDIS_FUNCTION_SOURCE_MAP: &[::redis_script::SourceSegment] = &[];
    ::redis_script::__private::inventory::submit! {
        ::redis_script::RegisteredLibrary {
            name: "bench",
            path: "lua/functions/bench.lua",
            source: __REDIS_FUNCTION_LIBRARY,
            source_map: __REDIS_FUNCTION_SOURCE_MAP,
        }
    }
    impl<'a> ::redis_script::Function for FunctionIncr<'a> {
        type Output = i64;
        const NAME: &'static str = "FunctionIncr";
        const LIBRARY: &'static str = "bench";
        const FUNCTION: &'static str = "bench_incr";
        const PATH: &'static str = "lua/functions/bench.lua";
        const SOURCE: &'static str = __REDIS_FUNCTION_LIBRARY;
        const KEY_FIELDS: &'static [&'static str] = &["counter"];
        const ARG_FIELDS: &'static [&'static str] = &[];
        const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None];
        const STANDALONE_ONLY: bool = false;
        const SLOT_GUARD: bool = true;
        const FLAGS: ::redis_script::ShebangFlags = ::redis_script::ShebangFlags {
            no_writes: false,
            allow_oom: false,
            allow_stale: false,
            no_cluster: false,
            allow_cross_slot_keys: false,
        };
        #[inline]
        fn write_keys_and_args(&self, command: &mut ::redis_script::__private::Cmd) {
            command.arg("1");
            command.arg(self.counter);
        }
    }
    impl<'a> FunctionIncr<'a> {
        #[inline]
        pub fn invoke<C: redis::ConnectionLike + ?Sized>(
            &self,
            connection: &mut C,
        ) -> Result<i64, redis_script::Error> {
            <Self as ::redis_script::Function>::invoke(self, connection)
        }
        #[inline]
        pub fn invoke_async<'c, C: redis::aio::ConnectionLike + Send>(
            &self,
            connection: &'c mut C,
        ) -> impl Future<Output = Result<i64, redis_script::Error>> + Send + use<'c, 'a, C>
        {
            ::redis_script::__private::invoke_function_async::<Self, C>(self, connection)
        }
    }
};

/// The same body as a script: `lua/incr.lua`.
#[derive(RedisScript)]
#[redis_script(path = "lua/incr.lua", returns = i64)]
struct ScriptIncr<'a> {
    #[key]
    counter: &'a str,
}

const CLIENT_CALLS: usize = 1_000_000;
const CLIENT_ROUNDS: usize = 7;
const SEQUENTIAL_CALLS: usize = 2_000;
const SEQUENTIAL_ROUNDS: usize = 31;
const ASYNC_TASKS: usize = 50;
const ASYNC_CALLS: usize = 40_000;
const ASYNC_ROUNDS: usize = 21;
/// Of the hand-written `FCALL`: the typed call may cost at most 3 % more.
const TARGET: f64 = 0.97;

/// Measures the three rows and prints their table.
pub fn run(server: &RedisServer, runtime: &tokio::runtime::Runtime) -> Result<(), Failure> {
    let mut rows = Vec::new();
    client_cost(&mut rows);
    sequential_sync(server, &mut rows)?;
    runtime.block_on(concurrent_async(server, &mut rows))?;
    println!();
    println!("Redis 7 functions: typed FCALL against hand-written FCALL and a typed EVALSHA");
    println!();
    println!(
        "| measurement | typed FCALL | baseline | ratio: median (lowest-highest round) | rounds | \
         target | status |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// A table row: the medians, and the median of the per-round ratios with the lowest and
/// highest round.
fn row(what: &str, ours: &[f64], baseline: &str, theirs: &[f64], target: Option<f64>) -> String {
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    let ratio = median(&ratios);
    let (target, status) = match target {
        Some(minimum) => {
            let below = ratios.iter().filter(|&&ratio| ratio < minimum).count();
            let status = match (ratio >= minimum, below) {
                (true, 0) => "met".to_owned(),
                (true, below) => format!("met ({below} of {} rounds below)", ratios.len()),
                (false, _) => format!(
                    "NOT met ({} of {} rounds above)",
                    ratios.len() - below,
                    ratios.len()
                ),
            };
            (format!(">= {:.0} %", minimum * 100.0), status)
        }
        None => ("-".to_owned(), "-".to_owned()),
    };
    eprintln!("  {what}: {ours:?}/s vs {baseline} {theirs:?}");
    format!(
        "| {what} | {:.0}/s | {baseline} {:.0}/s | {:.1} % ({:.1}-{:.1}) | {} | {target} | {status} |",
        median(ours),
        median(theirs),
        ratio * 100.0,
        low * 100.0,
        high * 100.0,
        ours.len()
    )
}

fn client_cost(rows: &mut Vec<String>) {
    let (mut a, mut b) = (Instant1, Instant1);
    let mut typed = || {
        for _ in 0..CLIENT_CALLS {
            let counter = std::hint::black_box("seq");
            std::hint::black_box(FunctionIncr { counter }.invoke(&mut a).ok());
        }
        CLIENT_CALLS
    };
    let mut hand = || {
        for _ in 0..CLIENT_CALLS {
            let counter = std::hint::black_box("seq");
            let reply: redis::RedisResult<i64> = redis::cmd("FCALL")
                .arg("bench_incr")
                .arg(1)
                .arg(counter)
                .query(&mut b);
            std::hint::black_box(reply.ok());
        }
        CLIENT_CALLS
    };
    let rates = compare_rounds(CLIENT_ROUNDS, &mut [&mut typed, &mut hand]);
    rows.push(row(
        "client-side cost per call (no network)",
        &rates[0],
        "hand-written FCALL",
        &rates[1],
        Some(TARGET),
    ));
}

fn sequential_sync(server: &RedisServer, rows: &mut Vec<String>) -> Result<(), Failure> {
    let (mut a, mut b, mut c) = (
        server.connection()?,
        server.connection()?,
        server.connection()?,
    );
    // Loaded up front, so that no variant pays for a first load.
    redis_script::libraries::load_libraries(&mut a, Default::default())?;
    redis_script::registry::load_all(&mut a)?;
    let mut typed = || {
        for _ in 0..SEQUENTIAL_CALLS {
            FunctionIncr { counter: "fseq" }
                .invoke(&mut a)
                .expect("typed FCALL");
        }
        SEQUENTIAL_CALLS
    };
    let mut hand = || {
        for _ in 0..SEQUENTIAL_CALLS {
            let _: i64 = redis::cmd("FCALL")
                .arg("bench_incr")
                .arg(1)
                .arg("fseq")
                .query(&mut b)
                .expect("hand-written FCALL");
        }
        SEQUENTIAL_CALLS
    };
    let mut script = || {
        for _ in 0..SEQUENTIAL_CALLS {
            ScriptIncr { counter: "fseq" }
                .invoke(&mut c)
                .expect("typed EVALSHA");
        }
        SEQUENTIAL_CALLS
    };
    let rates = compare_rounds(SEQUENTIAL_ROUNDS, &mut [&mut typed, &mut hand, &mut script]);
    let what = "sequential sync, 1 connection";
    rows.push(row(
        what,
        &rates[0],
        "hand-written FCALL",
        &rates[1],
        Some(TARGET),
    ));
    rows.push(row(
        what,
        &rates[0],
        "typed EVALSHA, same body",
        &rates[2],
        None,
    ));
    Ok(())
}

async fn concurrent_async(server: &RedisServer, rows: &mut Vec<String>) -> Result<(), Failure> {
    let connection = server.client().get_multiplexed_async_connection().await?;
    let per_task = ASYNC_CALLS / ASYNC_TASKS;
    let mut rates = vec![Vec::new(); 3];
    for round in 0..=ASYNC_ROUNDS {
        for (variant, rates) in rates.iter_mut().enumerate() {
            let started = Instant::now();
            let tasks: Vec<_> = (0..ASYNC_TASKS)
                .map(|_| {
                    let mut connection = connection.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            let ok = match variant {
                                0 => FunctionIncr { counter: "fasync" }
                                    .invoke_async(&mut connection)
                                    .await
                                    .is_ok(),
                                1 => redis::cmd("FCALL")
                                    .arg("bench_incr")
                                    .arg(1)
                                    .arg("fasync")
                                    .query_async::<i64>(&mut connection)
                                    .await
                                    .is_ok(),
                                _ => ScriptIncr { counter: "fasync" }
                                    .invoke_async(&mut connection)
                                    .await
                                    .is_ok(),
                            };
                            assert!(ok, "an async call failed");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await?;
            }
            // Round 0 is the warm-up.
            if round > 0 {
                rates.push((per_task * ASYNC_TASKS) as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
    let what = "50 async tasks, 1 multiplexed connection";
    rows.push(row(
        what,
        &rates[0],
        "hand-written FCALL",
        &rates[1],
        Some(TARGET),
    ));
    rows.push(row(
        what,
        &rates[0],
        "typed EVALSHA, same body",
        &rates[2],
        None,
    ));
    Ok(())
}
