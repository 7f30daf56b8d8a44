//! `analyze` on arbitrary bytes (as text when they are valid UTF-8), with a declaration that
//! the first bytes choose: it must never panic, whatever the script.
//!
//! ```text
//! cargo fuzz run analyze -- -max_total_time=600
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_script_analysis::{Declaration, Field, KeyTemplate, analyze};

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let Ok(source) = std::str::from_utf8(rest) else {
        return;
    };
    let mut keys: Vec<Field> = (0..shape % 4)
        .map(|n| Field::single(format!("k{n}")))
        .collect();
    if shape & 0x10 != 0 {
        keys.push(Field::variadic("rest"));
    }
    if shape & 0x20 != 0
        && let (Some(first), Ok(template)) = (keys.first_mut(), KeyTemplate::parse("{{t:{}}}"))
    {
        first.template = Some(template);
    }
    let declaration = Declaration {
        name: "Fuzz".into(),
        keys,
        args: vec![Field::variadic("args")],
        standalone_only: shape & 0x40 != 0,
        extra_commands: vec!["HEXPIRE".into()],
        // An integer reply: the reply checks report nil and array replies too.
        returns: redis_script_analysis::ReturnsShape::Integer,
        ..Declaration::default()
    };
    let analysis = analyze(source, &declaration);
    for diagnostic in &analysis.diagnostics {
        let _ = diagnostic.render("fuzz.lua");
    }
});
