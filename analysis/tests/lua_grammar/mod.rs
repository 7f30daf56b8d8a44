//! A generator of valid Lua 5.1 scripts rich in what the analysis follows, driven by a byte
//! string: every choice takes the next byte, and once the bytes run out every choice is the
//! first, which ends each production. The property tests (`tests/no_panic.rs`) and the fuzz
//! target `analyze_lua` (`fuzz/`) share it, so a failing input of either replays in the other.
//!
//! Besides locals, scopes, loops, functions and `redis.call`s with literal, `KEYS`- and
//! `ARGV`-derived arguments, it writes what has made analyses crash before: commands whose
//! key count is an argument (`ZUNIONSTORE`, `LMPOP`, `EVAL`, ...) with counts up to and past
//! `i64::MAX`, chains of unary operators, and brackets, blocks, `..` / `^` chains and binary
//! runs nested up to a chosen length, past Lua's 200 levels.

#![allow(dead_code)] // each user takes what it needs

use redis_script_analysis::{Declaration, Field, KeyTemplate};

const NAMES: &[&str] = &[
    "a", "b", "k", "key", "n", "redis", "KEYS", "ARGV", "os", "t", "x", "_G", "pcall",
];
const COMMANDS: &[&str] = &[
    "GET", "SET", "DEL", "HSET", "HGET", "INCR", "MSET", "ZADD", "XREAD", "STREAMS", "OBJECT",
    "ENCODING", "EVAL", "WATCH", "LPUSH", "EX", "NX", "get", "hincrbyy", "", "COMMAND", "JSON.SET",
    "MIGRATE", "KEYS", "PUBLISH",
];
/// Commands whose number of keys is one of their arguments.
const NUMKEYS: &[&str] = &[
    "ZUNIONSTORE",
    "ZINTERSTORE",
    "ZDIFFSTORE",
    "ZUNION",
    "ZINTER",
    "ZDIFF",
    "ZINTERCARD",
    "SINTERCARD",
    "LMPOP",
    "ZMPOP",
    "EVAL",
    "EVAL_RO",
    "FCALL",
    "FCALL_RO",
    "BLMPOP",
    "BZMPOP",
];
/// Key counts: ordinary, empty, negative, at and past the integer limits, not integers.
const COUNTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    " 2",
    "0x10",
    "2.5",
    "",
];

/// The next choices, from a byte string.
pub struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Choices { bytes, at: 0 }
    }

    /// A choice among `count` (0 once the bytes run out).
    pub fn below(&mut self, count: usize) -> usize {
        let byte = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        if count <= 1 {
            0
        } else {
            usize::from(byte) % count
        }
    }

    fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn flag(&mut self) -> bool {
        self.below(2) == 1
    }

    /// A length for a deep production: mostly short, often near Lua's limit of 200, sometimes
    /// up to `max`.
    fn length(&mut self, max: usize) -> usize {
        let high = self.below(256);
        let low = self.below(256);
        match self.below(4) {
            0 => low % 8,
            1 => 180 + low % 40,
            _ => (high * 256 + low) % max.max(1),
        }
    }
}

/// A generated script and the declaration it is checked against.
pub struct Generated {
    pub source: String,
    pub declaration: Declaration,
}

/// The script the bytes choose; no deep production repeats more than `max_repeat` times.
pub fn generate(bytes: &[u8], max_repeat: usize) -> Generated {
    let mut choices = Choices::new(bytes);
    let shape = choices.below(256);
    let mut generator = Generator {
        choices,
        out: String::new(),
        depth: 0,
        max_repeat,
    };
    generator.out.push_str(match shape % 5 {
        0 => "",
        1 => "#!lua flags=no-writes\n",
        2 => "#!lua flags=no-cluster\n",
        3 => "#!lua flags=allow-cross-slot-keys\n",
        _ => "#!lua\n",
    });
    generator.block();
    if generator.choices.flag() {
        generator.out.push_str("return ");
        generator.expression();
        generator.out.push('\n');
    }
    let template = KeyTemplate::parse("{{t:{}}}").ok();
    let declaration = Declaration {
        name: "Generated".into(),
        keys: vec![
            Field {
                name: "a".into(),
                variadic: false,
                template: if shape & 8 != 0 { template } else { None },
                unread: false,
            },
            Field::variadic("rest"),
        ],
        args: vec![Field::variadic("args")],
        standalone_only: shape & 16 != 0,
        extra_commands: vec![],
        allow: vec![],
        returns: Default::default(),
    };
    Generated {
        source: generator.out,
        declaration,
    }
}

struct Generator<'a> {
    choices: Choices<'a>,
    out: String,
    depth: usize,
    max_repeat: usize,
}

/// Recursive productions stop here, so that the script's size stays in proportion to the
/// bytes; the deep productions go far deeper, in loops.
const MAX_DEPTH: usize = 12;

impl Generator<'_> {
    fn name(&mut self) {
        let name = self.choices.choose(NAMES);
        self.out.push_str(name);
    }

    fn leaf(&mut self) {
        match self.choices.below(6) {
            0 => {
                let n = self.choices.below(256);
                self.out.push_str(&n.to_string());
            }
            1 => {
                let c = self.choices.choose(COMMANDS);
                self.out.push_str(&format!("'{c}'"));
            }
            2 => {
                let i = self.choices.below(5);
                self.out.push_str(&format!("KEYS[{i}]"));
            }
            3 => {
                let i = self.choices.below(5);
                self.out.push_str(&format!("ARGV[{i}]"));
            }
            4 => self.name(),
            _ => self.out.push_str("nil"),
        }
    }

    fn expression(&mut self) {
        self.depth += 1;
        let choice = if self.depth > MAX_DEPTH {
            0
        } else {
            self.choices.below(20)
        };
        match choice {
            0 => self.leaf(),
            1 => {
                self.expression();
                self.out.push_str(" .. ");
                self.expression();
            }
            2 => {
                self.expression();
                let operator = self
                    .choices
                    .choose(&[" + ", " - ", " or ", " and ", " == ", " < ", " ^ ", " % "]);
                self.out.push_str(operator);
                self.expression();
            }
            3 | 4 => self.call(),
            5 => {
                self.out.push('(');
                self.expression();
                self.out.push(')');
            }
            6 => {
                self.out.push('{');
                self.expression();
                self.out.push_str(", ");
                self.expression();
                self.out.push('}');
            }
            7 => {
                self.out.push_str("function(");
                self.name();
                self.out.push_str(") ");
                self.block();
                self.out.push_str(" end");
            }
            8 => {
                self.out.push_str("unpack(");
                let table = self.choices.choose(&["KEYS", "ARGV", "t"]);
                self.out.push_str(table);
                self.out.push(')');
            }
            9 => {
                self.out.push_str("string.format('%s:x', ");
                self.expression();
                self.out.push(')');
            }
            10 => {
                let operator = self.choices.choose(&["not ", "- ", "#"]);
                self.out.push_str(operator);
                self.expression();
            }
            11 => self.numkeys_call(),
            12 => {
                // A chain of unary operators, mixed or all alike.
                let length = self.choices.length(self.max_repeat);
                let mixed = self.choices.flag();
                let alike = self.choices.choose(&["not ", "- ", "#"]);
                for _ in 0..length {
                    let operator = if mixed {
                        self.choices.choose(&["not ", "- ", "# "])
                    } else {
                        alike
                    };
                    self.out.push_str(operator);
                }
                self.leaf();
            }
            13 => {
                let length = self.choices.length(self.max_repeat);
                let (open, close) = self.choices.choose(&[("(", ")"), ("{", "}"), ("-(", ")")]);
                self.out.push_str(&open.repeat(length));
                self.leaf();
                self.out.push_str(&close.repeat(length));
            }
            14 => {
                // A run of binary operators: `..` and `^` nest, the others do not.
                let length = self.choices.length(self.max_repeat);
                let operator =
                    self.choices
                        .choose(&[" .. ", " ^ ", " + ", " - - ", " and not ", " .. - "]);
                self.leaf();
                for _ in 0..length {
                    self.out.push_str(operator);
                    self.leaf();
                }
            }
            15 => {
                self.out.push_str("redis['");
                let function = self.choices.choose(&["call", "pcall"]);
                self.out.push_str(function);
                self.out.push_str("'](");
                self.arguments();
                self.out.push(')');
            }
            16 => {
                self.out.push_str("pcall(redis.call");
                let count = self.choices.below(5);
                for _ in 0..count {
                    self.out.push_str(", ");
                    self.expression();
                }
                self.out.push(')');
            }
            17 => {
                self.out.push_str("_G.");
                let table = self.choices.choose(&["KEYS", "ARGV", "redis"]);
                self.out.push_str(table);
                self.out.push_str(&format!("[{}]", self.choices.below(4)));
            }
            _ => self.leaf(),
        }
        self.depth -= 1;
    }

    fn arguments(&mut self) {
        let count = self.choices.below(5);
        for i in 0..count {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expression();
        }
    }

    fn call(&mut self) {
        let callee = self.choices.choose(&[
            "redis.call",
            "redis.pcall",
            "tostring",
            "f",
            "ipairs",
            "pcall",
        ]);
        self.out.push_str(callee);
        self.out.push('(');
        self.arguments();
        self.out.push(')');
    }

    /// `redis.call('ZUNIONSTORE', KEYS[1], '9223372036854775807', ...)` and the like.
    fn numkeys_call(&mut self) {
        let command = self.choices.choose(NUMKEYS);
        self.out
            .push_str(self.choices.choose(&["redis.call('", "redis.pcall('"]));
        self.out.push_str(command);
        self.out.push('\'');
        let before = self.choices.below(3);
        for _ in 0..before {
            self.out.push_str(", ");
            self.leaf();
        }
        let count = self.choices.choose(COUNTS);
        if self.choices.flag() {
            self.out.push_str(&format!(", '{count}'"));
        } else if !count.is_empty() && !count.starts_with(' ') {
            self.out.push_str(&format!(", {count}"));
        }
        let after = self.choices.below(5);
        for _ in 0..after {
            self.out.push_str(", ");
            self.leaf();
        }
        if self.choices.flag() {
            let table = self.choices.choose(&["KEYS", "ARGV"]);
            self.out.push_str(&format!(", unpack({table})"));
        }
        self.out.push(')');
    }

    fn statement(&mut self) {
        self.depth += 1;
        let choice = if self.depth > MAX_DEPTH {
            self.choices.below(3)
        } else {
            self.choices.below(13)
        };
        match choice {
            0 => {
                self.out.push_str("local ");
                self.name();
                self.out.push_str(" = ");
                self.expression();
            }
            1 => {
                self.name();
                self.out.push_str(" = ");
                self.expression();
            }
            2 => self.call(),
            3 => {
                self.out.push_str("if ");
                self.expression();
                self.out.push_str(" then ");
                self.block();
                self.out.push_str(" else ");
                self.block();
                self.out.push_str(" end");
            }
            4 => {
                self.out.push_str("for i = 1, #KEYS do ");
                self.block();
                self.out.push_str(" end");
            }
            5 => {
                self.out.push_str("for _, ");
                self.name();
                self.out.push_str(" in ipairs(");
                self.expression();
                self.out.push_str(") do ");
                self.block();
                self.out.push_str(" end");
            }
            6 => {
                self.out.push_str("while ");
                self.expression();
                self.out.push_str(" do ");
                self.block();
                self.out.push_str(" end");
            }
            7 => {
                self.out.push_str("local function ");
                self.name();
                self.out.push('(');
                self.name();
                self.out.push_str(", ...) ");
                self.block();
                self.out.push_str(" end");
            }
            8 => {
                self.out.push_str("repeat ");
                self.block();
                self.out.push_str(" until ");
                self.expression();
            }
            9 => {
                // Nested blocks, up to past Lua's limit.
                let length = self.choices.length(self.max_repeat);
                let (open, close) = self.choices.choose(&[
                    ("do ", " end"),
                    ("if x then ", " end"),
                    ("while x do ", " end"),
                    ("local function g() ", " end"),
                ]);
                self.out.push_str(&open.repeat(length));
                self.statement();
                self.out.push_str(&close.repeat(length));
            }
            10 => {
                self.out.push_str("local ");
                self.out
                    .push_str(self.choices.choose(&["KEYS", "ARGV", "_G"]));
                self.out.push_str(" = ");
                self.expression();
            }
            11 => {
                self.out.push_str("local ");
                self.name();
                self.out.push_str(" = ");
                self.numkeys_call();
            }
            _ => {
                self.out.push_str("do ");
                self.block();
                self.out.push_str(" end");
            }
        }
        self.depth -= 1;
        self.out.push('\n');
    }

    fn block(&mut self) {
        let count = self.choices.below(4);
        for _ in 0..count {
            self.statement();
        }
    }
}
