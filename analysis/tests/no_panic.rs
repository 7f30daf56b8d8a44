//! `analyze` returns, without panicking or overflowing the stack, on any input: arbitrary
//! bytes, a soup of Lua tokens, and generated valid Lua (which must also parse).
//!
//! The properties run 22,000 cases in all by default, about 20 seconds in a debug
//! build; set `PROPTEST_CASES` for a longer run:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test --release -p redis-script-analysis --test no_panic
//! ```

mod lua_grammar;

use proptest::prelude::*;
use redis_script_analysis::{Declaration, Field, KeyTemplate, analyze};

/// `cases` unless `PROPTEST_CASES` says otherwise; failures are not written to files.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

fn declaration(shape: u8) -> Declaration {
    let template = KeyTemplate::parse("{{t:{}}}").ok();
    Declaration {
        name: "Input".into(),
        keys: vec![
            Field {
                name: "a".into(),
                variadic: false,
                template: if shape & 1 != 0 { template } else { None },
                unread: false,
            },
            Field::variadic("rest"),
        ],
        args: if shape & 2 != 0 {
            vec![Field::single("x")]
        } else {
            vec![Field::variadic("args")]
        },
        standalone_only: shape & 4 != 0,
        extra_commands: vec!["HEXPIRE".into()],
        allow: vec![],
        returns: Default::default(),
    }
}

/// Pieces of Lua, including the unbalanced and the odd, that token soups are made of.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "[[",
    "]]",
    "[==[",
    "]==]",
    "--",
    "--[[",
    "--[=[",
    "'",
    "\"",
    "\\",
    "`",
    "\n",
    "\r",
    " ",
    ";",
    ",",
    ".",
    "..",
    "...",
    ":",
    "=",
    "==",
    "~=",
    "<",
    "^",
    "#",
    "-",
    "- ",
    "+",
    "*",
    "not ",
    "and ",
    "or ",
    "end ",
    "do ",
    "then ",
    "if ",
    "else ",
    "elseif ",
    "function ",
    "local ",
    "return ",
    "repeat ",
    "until ",
    "for ",
    "in ",
    "while ",
    "nil",
    "true",
    "1",
    "0x1",
    "1e400",
    "9223372036854775807",
    "-9223372036854775808",
    "KEYS",
    "ARGV",
    "KEYS[1]",
    "ARGV[1]",
    "_G",
    "redis.call(",
    "redis.pcall(",
    "redis['call'](",
    "pcall(redis.call, ",
    "'ZUNIONSTORE', ",
    "'LMPOP', ",
    "'EVAL', ",
    "'MIGRATE', ",
    "'GET', ",
    "'OBJECT', ",
    "'COMMAND'",
    "'JSON.SET', ",
    "'', ",
    "unpack(KEYS)",
    "unpack(ARGV)",
    "ipairs(KEYS)",
    "string.format('%s', ",
    "os.time()",
    "x",
    "k",
    "#!lua ",
    "flags=no-writes",
    "é",
    "\u{0}",
    "\u{feff}",
];

proptest! {
    #![proptest_config(config(5_000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), shape: u8) {
        let source = String::from_utf8_lossy(&bytes);
        let analysis = analyze(&source, &declaration(shape));
        for diagnostic in &analysis.diagnostics {
            let _ = diagnostic.render("input.lua");
        }
    }

    #[test]
    fn token_soup(
        tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..300),
        shape: u8,
    ) {
        let source = tokens.concat();
        let analysis = analyze(&source, &declaration(shape));
        for diagnostic in &analysis.diagnostics {
            let _ = diagnostic.render("input.lua");
        }
    }
}

proptest! {
    #![proptest_config(config(12_000))]

    #[test]
    fn generated_valid_lua(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let generated = lua_grammar::generate(&bytes, 600);
        let analysis = analyze(&generated.source, &generated.declaration);
        for diagnostic in &analysis.diagnostics {
            // The generator writes only valid Lua: a syntax error would be the parser's fault.
            prop_assert!(
                !diagnostic.message.starts_with("Lua syntax error"),
                "{}\n{diagnostic:?}",
                generated.source
            );
            let _ = diagnostic.render("generated.lua");
        }
    }
}

/// The deep productions at lengths no property case reaches.
#[test]
fn generated_scripts_with_long_chains() {
    for seed in 0..64u8 {
        let bytes: Vec<u8> = (0..200u16)
            .map(|i| {
                (i as u8)
                    .wrapping_mul(31)
                    .wrapping_add(seed.wrapping_mul(97))
            })
            .collect();
        let generated = lua_grammar::generate(&bytes, 100_000);
        let analysis = analyze(&generated.source, &generated.declaration);
        assert!(
            analysis
                .diagnostics
                .iter()
                .all(|diagnostic| !diagnostic.message.starts_with("Lua syntax error")),
            "{:?}",
            analysis.diagnostics
        );
    }
}
