//! `analyze` on arbitrary *valid* Lua: the fuzzer's bytes choose the productions of a small
//! Lua 5.1 grammar rich in what the analysis follows (locals, scopes, loops, functions,
//! `redis.call` with literal, `KEYS`- and `ARGV`-derived arguments, `..`, shebangs), in
//! commands whose key count is an argument (with counts past `i64::MAX`), and in unary chains,
//! brackets, blocks and operator runs nested far past Lua's 200 levels. It must never panic,
//! and the parser must accept every generated script.
//!
//! The grammar is `analysis/tests/lua_grammar`, which the property tests of the analysis
//! (`cargo test -p redis-script-analysis --test no_panic`) run too.
//!
//! ```text
//! cargo fuzz run analyze_lua -- -max_total_time=600
//! ```
#![no_main]

#[path = "../../analysis/tests/lua_grammar/mod.rs"]
mod lua_grammar;

use libfuzzer_sys::fuzz_target;
use redis_script_analysis::analyze;

fuzz_target!(|data: &[u8]| {
    let generated = lua_grammar::generate(data, 100_000);
    let analysis = analyze(&generated.source, &generated.declaration);
    for diagnostic in &analysis.diagnostics {
        // Generated scripts are valid Lua: a syntax error would be the parser's fault (every
        // production is complete, however soon the bytes run out).
        assert!(
            !diagnostic.message.starts_with("Lua syntax error"),
            "{}\n{diagnostic:?}",
            generated.source
        );
        let _ = diagnostic.render("fuzz.lua");
    }
});
