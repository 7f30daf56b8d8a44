//! How long `analyze` takes: on a generated 1,000-line script and on the Lua corpus.
//!
//! ```text
//! cargo run --release -p redis-script-analysis --example analysis_speed
//! cargo run --release -p redis-script-analysis --example analysis_speed -- --runs 500
//! cargo run -p redis-script-analysis --example analysis_speed -- --check FILE.lua ...
//! ```
//!
//! Each measurement runs `analyze` many times and reports the minimum and the median (the
//! minimum is the cost without interference, the median what a build sees). `--check` instead
//! prints the diagnostics of the given files, as a script with no declared fields and the
//! derive would show them (`KEYS` / `ARGV` counts aside).
//!
//! The target is a 1,000-line script analysed in under 5 ms (median, release build), so that
//! the derive adds nothing noticeable to a build; the program says whether it is met. It is a
//! program, not a test: timings vary with the machine and are read, not asserted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis_script_analysis::{Declaration, Field, KeyTemplate, analyze};

/// The analysis of a 1,000-line script should take less than this (median).
const TARGET: Duration = Duration::from_millis(5);
const TARGET_LINES: usize = 1_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut runs = 200usize;
    let mut check = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(runs);
            }
            "--check" => check.extend(args.by_ref().map(PathBuf::from)),
            other => {
                eprintln!("unknown argument {other}; use --runs N or --check FILE...");
                std::process::exit(2);
            }
        }
    }
    if !check.is_empty() {
        for path in check {
            print_diagnostics(&path);
        }
        return;
    }

    if cfg!(debug_assertions) {
        println!("(debug build: run with --release for meaningful numbers)");
    }
    let declaration = declaration(4, 4);

    let script = generated_script(TARGET_LINES);
    let lines = script.lines().count();
    let analysis = analyze(&script, &declaration);
    assert!(
        analysis.diagnostics.is_empty(),
        "the generated script is valid: {:#?}",
        analysis.diagnostics
    );
    let timing = measure(runs, || {
        analyze(&script, &declaration);
    });
    println!(
        "generated script: {lines} lines, {} bytes: min {:.3} ms, median {:.3} ms over {runs} runs",
        script.len(),
        millis(timing.0),
        millis(timing.1)
    );

    println!(
        "target: a {TARGET_LINES}-line script in under {:.0} ms (median): {}{}",
        millis(TARGET),
        if timing.1 < TARGET { "met" } else { "NOT met" },
        if cfg!(debug_assertions) {
            " (in a debug build; the target is for --release)"
        } else {
            ""
        }
    );

    let parse = measure(runs, || {
        let _ = full_moon::parse(&script);
    });
    println!(
        "  of which parsing (full_moon) alone: min {:.3} ms, median {:.3} ms",
        millis(parse.0),
        millis(parse.1)
    );

    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let corpus = read_corpus(&corpus_dir);
    if corpus.is_empty() {
        println!("no corpus at {}", corpus_dir.display());
        return;
    }
    let corpus_lines: usize = corpus
        .iter()
        .map(|(_, source)| source.lines().count())
        .sum();
    let declaration = declaration_for_corpus();
    let timing = measure(runs, || {
        for (_, source) in &corpus {
            analyze(source, &declaration);
        }
    });
    println!(
        "corpus: {} scripts, {corpus_lines} lines: min {:.3} ms, median {:.3} ms over {runs} runs \
         (all scripts, one after the other)",
        corpus.len(),
        millis(timing.0),
        millis(timing.1)
    );
    let mut per_script: Vec<(Duration, &str)> = corpus
        .iter()
        .map(|(name, source)| {
            let (min, _) = measure(runs.min(50), || {
                analyze(source, &declaration);
            });
            (min, name.as_str())
        })
        .collect();
    per_script.sort();
    if let Some((slowest, name)) = per_script.last() {
        println!(
            "slowest corpus script: {name}, min {:.3} ms",
            millis(*slowest)
        );
    }
}

/// (minimum, median) of `runs` runs, after a few warm-up runs.
fn measure(runs: usize, mut work: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..runs.min(10) {
        work();
    }
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

fn declaration(keys: usize, args: usize) -> Declaration {
    Declaration {
        name: "Bench".into(),
        // One hash tag for all keys, so that the cluster checks run and pass.
        keys: (1..=keys)
            .map(|n| {
                let template = KeyTemplate::parse("{{bench}}:{}").expect("a valid template");
                Field::single(format!("key{n}")).with_template(template)
            })
            .collect(),
        args: (1..=args)
            .map(|n| Field::single(format!("arg{n}")))
            .collect(),
        standalone_only: false,
        extra_commands: vec![],
        allow: vec![],
    }
}

/// Enough variadic keys and args for any corpus script, so that only the Lua is measured.
fn declaration_for_corpus() -> Declaration {
    Declaration {
        name: "Corpus".into(),
        keys: vec![Field::variadic("keys")],
        args: vec![Field::variadic("args")],
        standalone_only: true,
        extra_commands: vec![],
        allow: vec![],
    }
}

/// A realistic script of about `lines` lines: local helper functions, loops, branches, string
/// building and many `redis.call`s, repeated with fresh names.
fn generated_script(lines: usize) -> String {
    let mut script = String::from(
        "-- generated for the analysis benchmark\nlocal total = 0\nlocal results = {}\n",
    );
    let mut block = 0;
    while script.lines().count() < lines {
        block += 1;
        script.push_str(&format!(
            "local function step{block}(key, amount)
  local current = tonumber(redis.call('GET', key) or '0')
  if current + amount < 0 then
    return nil
  end
  redis.call('INCRBY', key, amount)
  redis.call('HSET', KEYS[2], 'field{block}', current + amount, 'at', ARGV[2])
  return current + amount
end
local value{block} = step{block}(KEYS[1], tonumber(ARGV[1]))
if value{block} then
  total = total + value{block}
  results[#results + 1] = value{block}
else
  redis.call('RPUSH', KEYS[3], 'failed:{block}:' .. ARGV[3])
end
for i = 1, 3 do
  local member = ARGV[4] .. ':' .. i
  redis.call('ZADD', KEYS[4], i * {block}, member)
  local rank = redis.call('ZRANK', KEYS[4], member)
  if rank and rank > 100 then
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, 0)
  end
end
local stats{block} = redis.call('HMGET', KEYS[2], 'field{block}', 'at')
local encoded{block} = cjson.encode({{block = {block}, stats = stats{block}, total = total}})
redis.call('SET', KEYS[1], string.format('%d', total), 'EX', 60)
"
        ));
    }
    script.push_str("return {total, #results}\n");
    script
}

fn read_corpus(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut corpus: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "lua"))
        .filter_map(|path| {
            let source = std::fs::read_to_string(&path).ok()?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((name, source))
        })
        .collect();
    corpus.sort();
    corpus
}

fn print_diagnostics(path: &Path) {
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(error) => {
            println!("{}: cannot read: {error}", path.display());
            return;
        }
    };
    let declaration = Declaration {
        name: "Check".into(),
        keys: vec![Field::variadic("keys")],
        args: vec![Field::variadic("args")],
        standalone_only: false,
        extra_commands: vec![],
        allow: vec![],
    };
    let analysis = analyze(&source, &declaration);
    let shown = path.display().to_string();
    let relevant: Vec<_> = analysis
        .diagnostics
        .iter()
        // The fields are made up: what they say about the declaration is beside the point.
        .filter(|diagnostic| {
            !diagnostic.message.contains("is variadic") && !diagnostic.message.contains("CROSSSLOT")
        })
        .collect();
    if relevant.is_empty() {
        println!("{shown}: ok");
    }
    for diagnostic in relevant {
        println!("{}", diagnostic.render(&shown));
    }
}
