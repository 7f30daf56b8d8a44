//! Every diagnostic's stable name, and which ones a crate may allow.
//!
//! A name is shown in each message (`[unread_argument]`) and is what `allow` takes, on the
//! struct (`#[redis_script(allow(unread_argument))]`) or on one Lua line
//! (`-- redis-script: allow(unread_argument)`). Only lints for code that Redis runs can be
//! allowed: what Redis certainly refuses (a syntax error, an unknown command, a wrong argument
//! count, a write in a `no-writes` script, ...) stays an error whatever the allows say.

use std::fmt;

macro_rules! lints {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, allowable: $allowable:literal;)*) => {
        /// A diagnostic's name: one per kind of problem the analysis reports.
        ///
        /// ```
        /// use redis_script_analysis::Lint;
        ///
        /// assert_eq!(Lint::UnreadArgument.name(), "unread_argument");
        /// assert_eq!(Lint::from_name("unread_argument"), Some(Lint::UnreadArgument));
        /// assert!(Lint::UnreadArgument.allowable());
        /// assert!(!Lint::UnknownCommand.allowable());
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Lint {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Lint {
            /// Every lint, in the order of the table in the README.
            ///
            /// ```
            /// use redis_script_analysis::Lint;
            /// assert!(Lint::ALL.iter().all(|lint| Lint::from_name(lint.name()) == Some(*lint)));
            /// ```
            pub const ALL: &'static [Lint] = &[$(Lint::$variant,)*];

            /// The stable snake_case name, as shown in messages and written in `allow(...)`.
            ///
            /// ```
            /// assert_eq!(redis_script_analysis::Lint::UnknownCommand.name(), "unknown_command");
            /// ```
            pub const fn name(self) -> &'static str {
                match self {
                    $(Lint::$variant => $name,)*
                }
            }

            /// Whether `allow` may silence it: true for what Redis runs anyway (a field kept
            /// for compatibility, a key taken from ARGV on a standalone server, ...), false for
            /// what Redis certainly refuses.
            ///
            /// ```
            /// use redis_script_analysis::Lint;
            /// assert!(Lint::CommandFromArgv.allowable());
            /// assert!(!Lint::WrongArity.allowable());
            /// ```
            pub const fn allowable(self) -> bool {
                match self {
                    $(Lint::$variant => $allowable,)*
                }
            }

            /// Whether the lint is a warning rather than an error: code that works for the
            /// inputs most callers send and fails only beyond a limit (a variadic list of 8,000
            /// entries unpacked at once), or that a script may mean (a division whose fraction
            /// Redis drops). The build goes on and the message says what happens. Allowing it
            /// silences it like any other.
            ///
            /// ```
            /// use redis_script_analysis::Lint;
            /// assert!(Lint::UnboundedUnpack.warns());
            /// assert!(!Lint::UnreadKey.warns());
            /// ```
            pub const fn warns(self) -> bool {
                matches!(self, Lint::UnboundedUnpack | Lint::FractionInReply)
            }

            /// What the lint reports, in one line.
            ///
            /// ```
            /// let summary = redis_script_analysis::Lint::UnreadKey.summary();
            /// assert!(summary.contains("never reads"));
            /// ```
            pub const fn summary(self) -> &'static str {
                match self {
                    $(Lint::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

lints! {
    /// The Lua file (or an included one) is missing, unreadable or not UTF-8.
    LuaFileUnreadable = "lua_file_unreadable", allowable: false;
    /// An `@include` directive that names no file, or a file that includes itself.
    InvalidInclude = "invalid_include", allowable: false;
    /// A Lua syntax error (Lua 5.1, as Redis runs it).
    LuaSyntaxError = "lua_syntax_error", allowable: false;
    /// Nesting deeper than the 200 syntax levels Lua allows.
    LuaTooDeeplyNested = "lua_too_deeply_nested", allowable: false;
    /// An unknown `#!` engine, option or flag, or a shebang line without code.
    InvalidShebang = "invalid_shebang", allowable: false;
    /// `KEYS[n]` beyond the declared `#[key]` fields (it reads nil).
    KeyIndexOutOfRange = "key_index_out_of_range", allowable: true;
    /// `ARGV[n]` beyond the declared `#[arg]` fields (it reads nil).
    ArgIndexOutOfRange = "arg_index_out_of_range", allowable: true;
    /// `KEYS[0]` or `ARGV[0]`, which are always nil.
    IndexZero = "index_zero", allowable: true;
    /// A `#[key]` field whose `KEYS[n]` the script never reads.
    UnreadKey = "unread_key", allowable: true;
    /// An `#[arg]` field whose `ARGV[n]` the script never reads.
    UnreadArgument = "unread_argument", allowable: true;
    /// A field marked `unread` whose entry the script does read.
    ReadFieldMarkedUnread = "read_field_marked_unread", allowable: true;
    /// A variadic field for a script that reads its table only at fixed positions.
    VariadicWithoutDynamicRead = "variadic_without_dynamic_read", allowable: true;
    /// `unpack(KEYS)` or `unpack(ARGV)` without an end bound, of a table with a variadic field:
    /// Lua's stack gives at most 7,999 values, so 8,000 entries or more fail at run time.
    UnboundedUnpack = "unbounded_unpack", allowable: true;
    /// `redis.call()` without a command name.
    CallWithoutCommand = "call_without_command", allowable: false;
    /// An unknown Redis command or subcommand, or a container command without its subcommand.
    UnknownCommand = "unknown_command", allowable: false;
    /// A command (or subcommand) that the declared minimum server does not have: one of a
    /// newer version (`HEXPIRE` before Redis 7.4) or of the other server family (`COMMANDLOG`
    /// on Redis, `VADD` on Valkey).
    CommandNotOnTarget = "command_not_on_target", allowable: false;
    /// A command called with a number of arguments it does not take.
    WrongArity = "wrong_arity", allowable: false;
    /// A command that Redis does not let scripts call (`noscript`).
    CommandNotAllowedInScripts = "command_not_allowed_in_scripts", allowable: false;
    /// A write, or a command that may replicate, in a `#!lua flags=no-writes` script.
    WriteInNoWrites = "write_in_no_writes", allowable: false;
    /// A key the script does not receive in KEYS: a literal key, or one built from ARGV.
    UndeclaredKey = "undeclared_key", allowable: true;
    /// A key derived from a declared key, or from an argument, that may hash to another slot.
    KeyMayLeaveSlot = "key_may_leave_slot", allowable: true;
    /// A command name taken from ARGV or KEYS, which the analysis cannot check.
    CommandFromArgv = "command_from_argv", allowable: true;
    /// Assigning a global variable or function, which Redis 7 refuses.
    GlobalAssignment = "global_assignment", allowable: false;
    /// Modifying a table of the sandbox (`string.trim = ...`), which Redis 7 makes read-only.
    SandboxTableModified = "sandbox_table_modified", allowable: false;
    /// A global that is neither a local nor a global of Redis's Lua sandbox.
    UnknownGlobal = "unknown_global", allowable: false;
    /// A global of the Lua sandbox of another server or a newer version than the declared
    /// minimum server (Valkey's `server` on Redis, `os` before Redis 7.4).
    GlobalNotOnTarget = "global_not_on_target", allowable: false;
    /// A member that a sandbox table (`cjson`, `string`, `redis`, ...) has on no server of the
    /// command table (a newer server may have it).
    UnknownLibraryMember = "unknown_library_member", allowable: true;
    /// A member of a sandbox table that only another server or a newer version than the
    /// declared minimum server has (`redis.VALKEY_VERSION` on Redis): reading it gives `nil`
    /// there, which a script may check for.
    LibraryMemberNotOnTarget = "library_member_not_on_target", allowable: true;
    /// A reply number that is not an integer (`return 3.7`, `return a / b`): Redis drops its
    /// fraction.
    FractionInReply = "fraction_in_reply", allowable: true;
    /// A `nil` in the array part of a returned table: Redis ends the reply before it.
    NilInReplyArray = "nil_in_reply_array", allowable: true;
    /// A returned table with string keys (`{name = 'x'}`): Redis drops them.
    StringKeysInReply = "string_keys_in_reply", allowable: true;
    /// A reply that the struct's `returns` type cannot hold: nil (`return nil`, `false`, no
    /// `return`) for a type without nil, an array for a single value.
    ReplyTypeMismatch = "reply_type_mismatch", allowable: true;
    /// A library that Redis's sandbox leaves out (`os.time`, `require`, `io`, ...).
    SandboxedLibrary = "sandboxed_library", allowable: false;
    /// Several keys whose templates do not prove that they share a cluster hash slot.
    UnprovenKeySlots = "unproven_key_slots", allowable: true;
    /// Keys whose literal hash tags are in different cluster hash slots.
    KeysInDifferentSlots = "keys_in_different_slots", allowable: false;
    /// A function library that `FUNCTION LOAD` refuses: no `#!lua name=`, no function or one
    /// registered twice, an unknown `register_function` argument or flag, Redis called
    /// outside a function.
    InvalidLibrary = "invalid_library", allowable: false;
    /// The struct names a function that its library does not register.
    UnknownFunction = "unknown_function", allowable: false;
    /// An `allow` that names no lint, or one that cannot be allowed.
    InvalidAllow = "invalid_allow", allowable: false;
}

impl Lint {
    /// The lint named `name`, if there is one.
    ///
    /// ```
    /// use redis_script_analysis::Lint;
    /// assert_eq!(Lint::from_name("undeclared_key"), Some(Lint::UndeclaredKey));
    /// assert_eq!(Lint::from_name("no_such_lint"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|lint| lint.name() == name)
    }

    /// The lint an `allow(name)` may name, or why it may not: no such lint (with the closest
    /// names), or one that Redis would refuse anyway.
    ///
    /// ```
    /// use redis_script_analysis::Lint;
    ///
    /// assert_eq!(Lint::allowable_by_name("unread_key"), Ok(Lint::UnreadKey));
    /// assert!(Lint::allowable_by_name("unread_keys").unwrap_err().contains("did you mean `unread_key`"));
    /// assert!(Lint::allowable_by_name("wrong_arity").unwrap_err().contains("cannot be allowed"));
    /// ```
    pub fn allowable_by_name(name: &str) -> Result<Lint, String> {
        match Lint::from_name(name) {
            Some(lint) if lint.allowable() => Ok(lint),
            Some(lint) => Err(format!(
                "`{name}` cannot be allowed: {}, and Redis refuses that whatever the derive says; \
                 fix the script instead",
                lowercase_first(lint.summary()).trim_end_matches('.')
            )),
            None => {
                let mut closest: Vec<(usize, &str)> = Lint::ALL
                    .iter()
                    .filter(|lint| lint.allowable())
                    // A shortened name (`unread_arg`) is closest to what it shortens.
                    .map(|lint| {
                        let score = if lint.name().starts_with(name) {
                            0
                        } else {
                            distance(name, lint.name())
                        };
                        (score, lint.name())
                    })
                    .collect();
                closest.sort();
                let suggestion = match closest.first() {
                    Some((distance, closest)) if *distance <= name.len().max(4) / 2 => {
                        format!("did you mean `{closest}`? ")
                    }
                    _ => String::new(),
                };
                let names: Vec<&str> = Lint::ALL
                    .iter()
                    .filter(|lint| lint.allowable())
                    .map(|lint| lint.name())
                    .collect();
                Err(format!(
                    "there is no lint `{name}`; {suggestion}the lints that can be allowed are {}",
                    names.join(", ")
                ))
            }
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Levenshtein distance, for suggesting the closest lint name.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<&str> = Lint::ALL.iter().map(|lint| lint.name()).collect();
        assert!(
            names
                .iter()
                .all(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn what_redis_refuses_cannot_be_allowed() {
        for lint in [
            Lint::LuaSyntaxError,
            Lint::UnknownCommand,
            Lint::WrongArity,
            Lint::WriteInNoWrites,
            Lint::CommandNotAllowedInScripts,
            Lint::KeysInDifferentSlots,
        ] {
            assert!(!lint.allowable(), "{lint}");
        }
        assert_eq!(
            Lint::allowable_by_name("write_in_no_writes").unwrap_err(),
            "`write_in_no_writes` cannot be allowed: a write, or a command that may replicate, \
             in a `#!lua flags=no-writes` script, and Redis refuses that whatever the derive \
             says; fix the script instead"
        );
    }

    #[test]
    fn unknown_names_get_the_closest_allowable_one() {
        let error = Lint::allowable_by_name("unread_arg").unwrap_err();
        assert!(
            error.starts_with("there is no lint `unread_arg`; did you mean `unread_argument`? "),
            "{error}"
        );
        let error = Lint::allowable_by_name("zzzzzzzzzzzzzzzzzzzzzzzzzz").unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
    }
}
