//! How long the derive's analysis takes: on a generated 1,000-line script, on a corpus of 30
//! job-queue scripts that share helpers through `--- @include`, and on the 40 small scripts of
//! `tests/corpus/`.
//!
//! ```text
//! cargo run -p redis-script-analysis --example analysis_speed
//! cargo run --release -p redis-script-analysis --example analysis_speed
//! cargo run -p redis-script-analysis --example analysis_speed -- --runs 500
//! cargo run -p redis-script-analysis --example analysis_speed -- --check FILE.lua ...
//! ```
//!
//! The first command is the one that says what users get. Cargo compiles a proc macro and its
//! dependencies (this crate, `full_moon`) with the profile's `build-override` settings, which
//! default to `opt-level = 0` in release builds too; the dev profile runs this program at
//! `opt-level = 0` as well, so its figures are the derive's (with debug assertions, as in a
//! user's `cargo build`). `--release` shows what `[profile.*.build-override] opt-level = 3` in
//! the user's `Cargo.toml` buys; `CARGO_PROFILE_RELEASE_OPT_LEVEL=0` with `--release` is a
//! user's `cargo build --release` (`opt-level = 0`, no debug assertions).
//!
//! Each measurement runs the work many times and reports the minimum and the median: the
//! minimum is the cost without interference, the median what a build on a busy machine sees.
//! It is a program, not a test: timings vary with the machine and are read, not asserted.
//! `--check` instead prints the diagnostics of the given files, as a script with no declared
//! fields and the derive would show them (`KEYS` / `ARGV` counts aside).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis_script_analysis::{
    AssembledScript, Declaration, Field, KeyTemplate, ScriptFiles, analyze, analyze_script,
    assemble_script,
};

/// The size of the generated script: a long hand-written script, as large as real ones get.
const GENERATED_LINES: usize = 1_000;

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

    println!(
        "build: {}",
        if cfg!(debug_assertions) {
            "debug assertions on: the dev profile, opt-level 0 as the derive runs in a user's \
             `cargo build` (unless the profile was changed)"
        } else {
            "debug assertions off: --release, opt-level 3 unless overridden \
             (CARGO_PROFILE_RELEASE_OPT_LEVEL=0 is a user's `cargo build --release`)"
        }
    );

    generated(runs);
    with_includes(runs);
    small_corpus(runs);
}

/// The generated script, whole and its parsing alone.
fn generated(runs: usize) {
    let declaration = declaration(4, 4);
    let script = generated_script(GENERATED_LINES);
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
        "generated script: {lines} lines, {} bytes: min {:.2} ms, median {:.2} ms over {runs} runs",
        script.len(),
        millis(timing.0),
        millis(timing.1)
    );
    let parse = measure(runs, || {
        let _ = full_moon::parse(&script);
    });
    println!(
        "  of which parsing (full_moon) alone: min {:.2} ms, median {:.2} ms",
        millis(parse.0),
        millis(parse.1)
    );
    // The derive also scans the tokens once for error replies a script may word itself.
    let scan = measure(runs, || {
        let _ = redis_script_analysis::may_reply_own_error(&script);
    });
    println!(
        "  and, besides the analysis, the derive's token scan (may_reply_own_error): min {:.2} ms, \
         median {:.2} ms",
        millis(scan.0),
        millis(scan.1)
    );
}

/// The 30 scripts with includes: each assembled from disk and analysed, as the derive does.
fn with_includes(runs: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_includes");
    let names = lua_files(&dir);
    if names.is_empty() {
        println!("no corpus at {}", dir.display());
        return;
    }
    let mut files = Disk(dir);
    // The declarations are made once, outside the timing: a user writes them.
    let scripts: Vec<(String, AssembledScript, Declaration)> = names
        .into_iter()
        .map(|name| {
            let script = assemble_script(&name, &mut files)
                .unwrap_or_else(|errors| panic!("{name} assembles: {errors:#?}"));
            let declaration = declaration_for(&script);
            let analysis = analyze_script(&script, &declaration);
            assert!(
                analysis.diagnostics.is_empty(),
                "{name} passes the analysis: {:#?}",
                analysis.diagnostics
            );
            (name, script, declaration)
        })
        .collect();
    let lines: usize = scripts
        .iter()
        .map(|(_, script, _)| script.source.lines().count())
        .sum();
    let largest = scripts
        .iter()
        .map(|(_, script, _)| script.source.lines().count())
        .max()
        .unwrap_or_default();
    let timing = measure(runs, || {
        for (name, _, declaration) in &scripts {
            let script = assemble_script(name, &mut files).expect("assembled before");
            analyze_script(&script, declaration);
        }
    });
    println!(
        "corpus with includes: {} scripts, {lines} lines once assembled (the largest {largest}): \
         min {:.2} ms, median {:.2} ms over {runs} runs (assembly from disk and analysis of \
         all scripts, one after the other)",
        scripts.len(),
        millis(timing.0),
        millis(timing.1)
    );
    let assembly = measure(runs, || {
        for (name, _, _) in &scripts {
            let _ = assemble_script(name, &mut files);
        }
    });
    println!(
        "  of which assembly alone: min {:.2} ms, median {:.2} ms",
        millis(assembly.0),
        millis(assembly.1)
    );
    let slowest = scripts
        .iter()
        .map(|(name, script, declaration)| {
            let (min, _) = measure(runs.min(50), || {
                analyze_script(script, declaration);
            });
            (min, name)
        })
        .max();
    if let Some((min, name)) = slowest {
        println!(
            "  slowest: {name}, min {:.2} ms for its analysis",
            millis(min)
        );
    }
}

/// The 40 small real-world scripts of `tests/corpus/`.
fn small_corpus(runs: usize) {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let corpus: Vec<(String, String)> = lua_files(&corpus_dir)
        .into_iter()
        .filter_map(|name| {
            let source = std::fs::read_to_string(corpus_dir.join(&name)).ok()?;
            Some((name, source))
        })
        .collect();
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
        "small corpus: {} scripts, {corpus_lines} lines: min {:.2} ms, median {:.2} ms over \
         {runs} runs (all scripts, one after the other)",
        corpus.len(),
        millis(timing.0),
        millis(timing.1)
    );
}

/// Reads script files from a directory on disk, as the derive reads them from the crate's.
struct Disk(PathBuf);

impl ScriptFiles for Disk {
    fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }

    fn describe(&self, path: &str) -> String {
        self.0.join(path).display().to_string()
    }
}

/// The names of the `.lua` files directly in `dir` (not in its subdirectories), sorted.
fn lua_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "lua"))
        .filter_map(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// One plain field for every `KEYS[n]` / `ARGV[n]` up to the highest the script reads, so
/// that the analysis reports nothing; standalone, as `tests/corpus_includes.rs` explains.
fn declaration_for(script: &AssembledScript) -> Declaration {
    let mut declaration = Declaration {
        name: "Corpus".into(),
        keys: vec![],
        args: vec![],
        standalone_only: true,
        extra_commands: vec![],
        allow: vec![],
        returns: Default::default(),
    };
    let first = analyze_script(script, &declaration);
    let fields = |prefix: &str, highest: Option<u64>| -> Vec<Field> {
        (1..=highest.unwrap_or(0))
            .map(|n| Field::single(format!("{prefix}{n}")))
            .collect()
    };
    declaration.keys = fields("key", first.keys.highest_literal_index());
    declaration.args = fields("arg", first.args.highest_literal_index());
    declaration
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
        returns: Default::default(),
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
        returns: Default::default(),
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
        returns: Default::default(),
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
