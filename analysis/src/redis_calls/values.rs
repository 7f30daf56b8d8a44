//! What the analysis knows about a Lua value: where a string comes from.
//!
//! The lattice is deliberately small. `Unknown` is the answer whenever the analysis cannot
//! tell, and every check accepts it, so that only what is certain is reported.

/// The most alternatives a literal value keeps (`cond and 'LPUSH' or 'RPUSH'`).
const MAX_ALTERNATIVES: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// Anything: a function parameter, a table field, a call's result, a number computed, ...
    Unknown,
    /// `nil`, or a local without a value yet.
    Nil,
    /// One of these literal strings (number literals as Lua prints them).
    Literal(Vec<String>),
    /// A string that comes from `ARGV` (possibly with literal text around it), and not from
    /// `KEYS`.
    Argv,
    /// A key from `KEYS`, or a string derived from one; also an argument whose template
    /// carries a hash tag (a key prefix), and strings derived from it.
    Key(KeyValue),
    /// The `KEYS` table itself (or an alias of it).
    KeysTable,
    /// The `ARGV` table itself (or an alias of it).
    ArgvTable,
    /// Several values spread into a call's arguments, each like this one (`unpack(KEYS)`).
    Spread(Box<Value>),
    /// An iterator over a table's entries (`ipairs(KEYS)`): its second variable is like this.
    Entries(Box<Value>),
    /// A function or table of the sandbox that the analysis follows.
    Builtin(Builtin),
}

/// A key read from `KEYS`, and how a string was derived from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyValue {
    /// Which table the value was read from.
    pub table: KeyTable,
    /// The literal index in `KEYS[n]`, or `None` for `KEYS[i]`, `ipairs(KEYS)`, ...
    pub index: Option<u64>,
    /// What was prepended to the key.
    pub prefix: Prefix,
    /// Whether text was appended to the key.
    pub suffixed: bool,
    /// Where the key expression is written (`KEYS[1]`), for messages.
    pub written: Span,
}

/// Where a [`KeyValue`] was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyTable {
    /// `KEYS`: a declared key.
    Keys,
    /// `ARGV`, at an #[arg] whose template carries a hash tag: a key prefix.
    Argv,
}

impl KeyValue {
    /// A declared key itself, as the script received it.
    pub fn exact(&self) -> bool {
        self.table == KeyTable::Keys && self.prefix == Prefix::None && !self.suffixed
    }
}

/// A range of bytes of the script, for quoting code in messages (made text only then).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// Text prepended to a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// Nothing.
    None,
    /// Literal text without `{`, which cannot move the key's hash tag.
    BraceFree,
    /// Literal text with a `{`, which can: the text, for messages.
    Braced(String),
    /// Text from `ARGV`, which may contain a `{`.
    FromArgv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Redis,
    RedisCall {
        protected: bool,
    },
    Unpack,
    ToString,
    ToNumber,
    Ipairs,
    /// Lua's `pcall`, which `pcall(redis.call, ...)` calls Redis through.
    Pcall,
    StringLibrary,
    StringFormat,
    /// `string.lower`, `string.sub`, ...: a string made from the first argument.
    StringTransform,
}

impl Value {
    pub fn literal(text: String) -> Value {
        Value::Literal(vec![text])
    }

    /// The value when only one value is taken from an expression (`(f())`, `local a = f()`).
    pub fn single(self) -> Value {
        match self {
            Value::Spread(each) => *each,
            other => other,
        }
    }

    /// The text, when it is one literal.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Value::Literal(alternatives) if alternatives.len() == 1 => Some(&alternatives[0]),
            _ => None,
        }
    }

    /// The value after a branch that may or may not have assigned `other`.
    pub fn merge(self, other: Value) -> Value {
        match (self, other) {
            (Value::Nil, other) | (other, Value::Nil) => other,
            (a, b) if a == b => a,
            (Value::Literal(mut a), Value::Literal(b)) => {
                for text in b {
                    if !a.contains(&text) {
                        a.push(text);
                    }
                }
                if a.len() > MAX_ALTERNATIVES {
                    Value::Unknown
                } else {
                    Value::Literal(a)
                }
            }
            (Value::Key(a), Value::Key(b)) if a.table == b.table => Value::Key(KeyValue {
                table: a.table,
                index: if a.index == b.index { a.index } else { None },
                prefix: if a.prefix == b.prefix {
                    a.prefix
                } else if a.prefix == Prefix::None {
                    b.prefix
                } else {
                    a.prefix
                },
                suffixed: a.suffixed || b.suffixed,
                written: a.written,
            }),
            _ => Value::Unknown,
        }
    }

    /// `self .. other`.
    pub fn concat(self, other: Value) -> Value {
        match (self.single(), other.single()) {
            (Value::Key(mut key), _) => {
                key.suffixed = true;
                Value::Key(key)
            }
            (Value::Literal(before), Value::Key(mut key)) => {
                let braced = before.iter().find(|text| text.contains('{'));
                key.prefix = match (braced, key.prefix) {
                    (_, Prefix::FromArgv) => Prefix::FromArgv,
                    (_, Prefix::Braced(text)) => Prefix::Braced(text),
                    (Some(text), _) => Prefix::Braced(text.clone()),
                    (None, _) => Prefix::BraceFree,
                };
                Value::Key(key)
            }
            (Value::Argv, Value::Key(mut key)) => {
                key.prefix = Prefix::FromArgv;
                Value::Key(key)
            }
            (Value::Literal(a), Value::Literal(b)) => {
                if a.len() * b.len() > MAX_ALTERNATIVES {
                    return Value::Unknown;
                }
                let mut joined = Vec::new();
                for first in &a {
                    for second in &b {
                        let text = format!("{first}{second}");
                        if !joined.contains(&text) {
                            joined.push(text);
                        }
                    }
                }
                Value::Literal(joined)
            }
            (Value::Literal(_) | Value::Argv, Value::Literal(_) | Value::Argv) => Value::Argv,
            // Text from ARGV first: whatever follows, that text may hold the key's hash tag.
            (Value::Argv, _) => Value::Argv,
            _ => Value::Unknown,
        }
    }

    /// What a string function returns for this first argument: text from ARGV stays so.
    pub fn transformed(self) -> Value {
        match self.single() {
            Value::Argv => Value::Argv,
            _ => Value::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Value {
        Value::Key(KeyValue {
            table: KeyTable::Keys,
            index: Some(1),
            prefix: Prefix::None,
            suffixed: false,
            written: Span::default(),
        })
    }

    #[test]
    fn concatenation_tracks_derivation() {
        let Value::Key(suffixed) = key().concat(Value::literal(":meta".into())) else {
            panic!()
        };
        assert!(suffixed.suffixed && suffixed.prefix == Prefix::None);
        let Value::Key(prefixed) = Value::literal("a:".into()).concat(key()) else {
            panic!()
        };
        assert_eq!(prefixed.prefix, Prefix::BraceFree);
        let Value::Key(braced) = Value::literal("{a}".into()).concat(key()) else {
            panic!()
        };
        assert_eq!(braced.prefix, Prefix::Braced("{a}".into()));
        let Value::Key(from_argv) = Value::Argv.concat(key()) else {
            panic!()
        };
        assert_eq!(from_argv.prefix, Prefix::FromArgv);
        assert_eq!(Value::literal("a".into()).concat(Value::Argv), Value::Argv);
        assert_eq!(Value::Unknown.concat(key()), Value::Unknown);
        // Text from ARGV before an unknown value still decides the key's hash tag.
        assert_eq!(Value::Argv.concat(Value::Unknown), Value::Argv);
        assert_eq!(Value::Unknown.concat(Value::Argv), Value::Unknown);
    }

    #[test]
    fn merging_keeps_only_what_both_branches_agree_on() {
        assert_eq!(
            Value::literal("a".into()).merge(Value::literal("b".into())),
            Value::Literal(vec!["a".into(), "b".into()])
        );
        assert_eq!(Value::Nil.merge(key()), key());
        assert_eq!(key().merge(Value::Argv), Value::Unknown);
    }
}
