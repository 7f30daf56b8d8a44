//! `analyze` on arbitrary *valid* Lua: the fuzzer's bytes choose the productions of a small
//! Lua 5.1 grammar rich in what the analysis follows (locals, scopes, loops, functions,
//! `redis.call` with literal, `KEYS`- and `ARGV`-derived arguments, `..`, shebangs). It must
//! never panic, and the parser must accept every generated script.
//!
//! ```text
//! cargo fuzz run analyze_lua -- -max_total_time=600
//! ```
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use redis_script_analysis::{Declaration, Field, KeyTemplate, analyze};

const NAMES: &[&str] = &[
    "a", "b", "k", "key", "n", "redis", "KEYS", "ARGV", "os", "t", "x",
];
const COMMANDS: &[&str] = &[
    "GET", "SET", "DEL", "HSET", "HGET", "INCR", "MSET", "ZADD", "XREAD", "STREAMS", "OBJECT",
    "ENCODING", "EVAL", "WATCH", "LPUSH", "EX", "NX", "get", "hincrbyy", "",
];

struct Gen<'u, 'd> {
    u: &'u mut Unstructured<'d>,
    out: String,
    depth: usize,
}

impl Gen<'_, '_> {
    fn name(&mut self) -> Result<()> {
        let name = self.u.choose(NAMES)?;
        self.out.push_str(name);
        Ok(())
    }

    fn expression(&mut self) -> Result<()> {
        self.depth += 1;
        let choice = if self.depth > 6 {
            self.u.int_in_range(0..=4)?
        } else {
            self.u.int_in_range(0..=13)?
        };
        match choice {
            0 => {
                let n: u8 = self.u.arbitrary()?;
                self.out.push_str(&n.to_string());
            }
            1 => {
                let c = self.u.choose(COMMANDS)?;
                self.out.push_str(&format!("'{c}'"));
            }
            2 => {
                let i: u8 = self.u.int_in_range(0..=4)?;
                self.out.push_str(&format!("KEYS[{i}]"));
            }
            3 => {
                let i: u8 = self.u.int_in_range(0..=4)?;
                self.out.push_str(&format!("ARGV[{i}]"));
            }
            4 => self.name()?,
            5 => {
                self.expression()?;
                self.out.push_str(" .. ");
                self.expression()?;
            }
            6 => {
                self.expression()?;
                self.out
                    .push_str(self.u.choose(&[" + ", " or ", " and ", " == ", " < "])?);
                self.expression()?;
            }
            7 => self.call()?,
            8 => {
                self.out.push('(');
                self.expression()?;
                self.out.push(')');
            }
            9 => {
                self.out.push('{');
                self.expression()?;
                self.out.push_str(", ");
                self.expression()?;
                self.out.push('}');
            }
            10 => {
                self.out.push_str("function(");
                self.name()?;
                self.out.push_str(") ");
                self.block()?;
                self.out.push_str(" end");
            }
            11 => {
                self.out.push_str("unpack(");
                self.out.push_str(self.u.choose(&["KEYS", "ARGV", "t"])?);
                self.out.push(')');
            }
            12 => {
                self.out.push_str("string.format('%s:x', ");
                self.expression()?;
                self.out.push(')');
            }
            _ => {
                self.out.push_str("not ");
                self.expression()?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn call(&mut self) -> Result<()> {
        let callee = *self
            .u
            .choose(&["redis.call", "redis.pcall", "tostring", "f", "ipairs"])?;
        self.out.push_str(callee);
        self.out.push('(');
        let count = self.u.int_in_range(0..=4)?;
        for i in 0..count {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expression()?;
        }
        self.out.push(')');
        Ok(())
    }

    fn statement(&mut self) -> Result<()> {
        self.depth += 1;
        let choice = if self.depth > 5 {
            self.u.int_in_range(0..=2)?
        } else {
            self.u.int_in_range(0..=9)?
        };
        match choice {
            0 => {
                self.out.push_str("local ");
                self.name()?;
                self.out.push_str(" = ");
                self.expression()?;
            }
            1 => {
                self.name()?;
                self.out.push_str(" = ");
                self.expression()?;
            }
            2 => self.call()?,
            3 => {
                self.out.push_str("if ");
                self.expression()?;
                self.out.push_str(" then ");
                self.block()?;
                self.out.push_str(" else ");
                self.block()?;
                self.out.push_str(" end");
            }
            4 => {
                self.out.push_str("for i = 1, #KEYS do ");
                self.block()?;
                self.out.push_str(" end");
            }
            5 => {
                self.out.push_str("for _, ");
                self.name()?;
                self.out.push_str(" in ipairs(");
                self.expression()?;
                self.out.push_str(") do ");
                self.block()?;
                self.out.push_str(" end");
            }
            6 => {
                self.out.push_str("while ");
                self.expression()?;
                self.out.push_str(" do ");
                self.block()?;
                self.out.push_str(" end");
            }
            7 => {
                self.out.push_str("local function ");
                self.name()?;
                self.out.push_str("(p, ...) ");
                self.block()?;
                self.out.push_str(" end");
            }
            8 => {
                self.out.push_str("repeat ");
                self.block()?;
                self.out.push_str(" until ");
                self.expression()?;
            }
            _ => {
                self.out.push_str("do ");
                self.block()?;
                self.out.push_str(" end");
            }
        }
        self.depth -= 1;
        self.out.push('\n');
        Ok(())
    }

    fn block(&mut self) -> Result<()> {
        let count = self.u.int_in_range(0..=3)?;
        for _ in 0..count {
            self.statement()?;
        }
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let shape: u8 = u.arbitrary().unwrap_or(0);
    let mut generator = Gen {
        u: &mut u,
        out: String::new(),
        depth: 0,
    };
    generator.out.push_str(match shape % 4 {
        0 => "",
        1 => "#!lua flags=no-writes\n",
        2 => "#!lua flags=no-cluster\n",
        _ => "#!lua\n",
    });
    let _ = generator.block();
    if generator.u.arbitrary::<bool>().unwrap_or(false) {
        generator.out.push_str("return ");
        let _ = generator.expression();
        generator.out.push('\n');
    }
    let source = generator.out;
    let template = KeyTemplate::parse("{{t:{}}}").ok();
    let declaration = Declaration {
        name: "Fuzz".into(),
        keys: vec![
            Field {
                name: "a".into(),
                variadic: false,
                template: if shape & 4 != 0 { template } else { None },
            },
            Field::variadic("rest"),
        ],
        args: vec![Field::variadic("args")],
        standalone_only: shape & 8 != 0,
    };
    let analysis = analyze(&source, &declaration);
    for diagnostic in &analysis.diagnostics {
        // Generated scripts are valid Lua: a syntax error would be the parser's fault (or the
        // generator's, when cut short mid-expression, which it never is: every production is
        // complete).
        assert!(
            !diagnostic.message.starts_with("Lua syntax error"),
            "{source}\n{diagnostic:?}"
        );
        let _ = diagnostic.render("fuzz.lua");
    }
});
