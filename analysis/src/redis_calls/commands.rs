//! The types of the command table and how to look commands up and find their keys.

use std::cmp::Ordering;
use std::fmt;

use super::command_table::COMMANDS;
use crate::{Server, Target, Version};

/// One Redis command, or one subcommand of a container command such as `OBJECT`, as the
/// server describes it in `COMMAND INFO` and `COMMAND DOCS`.
///
/// ```
/// use redis_script_analysis::{CommandFlags, find_command};
///
/// let get = find_command("GET").unwrap();
/// assert_eq!(get.name, "get");
/// assert_eq!(get.arity, 2); // `GET key`: exactly two words, the name included
/// assert!(get.flags.contains(CommandFlags::READONLY));
/// assert_eq!(get.syntax, "GET key");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// The name as the server spells it: lowercase, and `container|sub` for a subcommand
    /// (`object|encoding`).
    pub name: &'static str,
    /// The number of words the command takes, its own name (and subcommand name) included:
    /// `N` means exactly `N`, `-N` at least `N`.
    pub arity: i32,
    /// The command's flags (`write`, `readonly`, `noscript`, ...).
    pub flags: CommandFlags,
    /// Legacy key position: index of the first key (0 for none).
    pub first_key: i32,
    /// Legacy key position: index of the last key, negative from the end.
    pub last_key: i32,
    /// Legacy key position: step between keys.
    pub step: i32,
    /// Where the keys are, in Redis 7's key-specification form.
    pub key_specs: &'static [KeySpec],
    /// The subcommands of a container command, sorted by name; empty for other commands.
    pub subcommands: &'static [Command],
    /// `COMMAND DOCS`'s one-line summary.
    pub summary: &'static str,
    /// The command's syntax, rendered from `COMMAND DOCS`'s argument list, e.g.
    /// `HINCRBY key field increment`.
    pub syntax: &'static str,
    /// Since which version each server has it (`None`: that server does not have it).
    pub since: Since,
    /// Where a version of a server defines it otherwise than above (another arity, other
    /// flags or key specifications); [`Command::on`] applies them.
    pub variants: &'static [Variant],
}

/// Since which version of each server a [`Command`] (or a name of the Lua sandbox, see
/// [`LUA_GLOBALS_BY_SERVER`](crate::LUA_GLOBALS_BY_SERVER)) exists.
///
/// ```
/// use redis_script_analysis::{Server, Version, find_command};
///
/// let hexpire = find_command("hexpire").unwrap();
/// assert_eq!(hexpire.since.of(Server::Redis), Some(Version::new(7, 4)));
/// assert_eq!(hexpire.since.of(Server::Valkey), Some(Version::new(9, 0)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Since {
    /// The first Redis version with the command.
    pub redis: Option<Version>,
    /// The first Valkey version with the command.
    pub valkey: Option<Version>,
}

impl Since {
    /// Every supported version of both servers: Redis 7.0 and later, Valkey 7.2 and later.
    ///
    /// ```
    /// use redis_script_analysis::{Since, Target};
    ///
    /// assert!(Since::EVERY_SERVER.available_on(Target::DEFAULT));
    /// assert!(Since::EVERY_SERVER.available_on("valkey-7.2".parse().unwrap()));
    /// ```
    pub const EVERY_SERVER: Since = Since {
        redis: Some(Server::Redis.oldest()),
        valkey: Some(Server::Valkey.oldest()),
    };

    /// Whether the target has it, on its version and every later one.
    ///
    /// ```
    /// use redis_script_analysis::{Since, Target, Version};
    ///
    /// let since = Since { redis: Some(Version::new(7, 4)), valkey: None };
    /// assert!(since.available_on("redis-8.0".parse::<Target>().unwrap()));
    /// assert!(!since.available_on("redis-7.2".parse::<Target>().unwrap()));
    /// assert!(!since.available_on("valkey-9.1".parse::<Target>().unwrap()));
    /// ```
    pub fn available_on(self, target: Target) -> bool {
        target.has(target.server, self.of(target.server))
    }

    /// The first version of `server` with the command.
    ///
    /// ```
    /// use redis_script_analysis::{Server, Since, Version};
    ///
    /// let since = Since { redis: Some(Version::new(7, 0)), valkey: None };
    /// assert_eq!(since.of(Server::Valkey), None);
    /// ```
    pub const fn of(self, server: Server) -> Option<Version> {
        match server {
            Server::Redis => self.redis,
            Server::Valkey => self.valkey,
        }
    }
}

/// How some versions of one server define a command otherwise than the table's main entry,
/// e.g. `ZRANK` took exactly two arguments before Redis 7.2 added `WITHSCORE`.
///
/// ```
/// use redis_script_analysis::{Server, Target, Version, find_command};
///
/// let zrank = find_command("zrank").unwrap();
/// assert_eq!(zrank.arity, -3);
/// let old: Target = "redis-7.0".parse().unwrap();
/// assert_eq!(zrank.on(old).arity, 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// The server whose versions it describes.
    pub server: Server,
    /// The first version it applies to.
    pub from: Version,
    /// The first version it no longer applies to; `None`: every later version.
    pub until: Option<Version>,
    /// The arity there.
    pub arity: i32,
    /// The flags there.
    pub flags: CommandFlags,
    /// The key specifications there.
    pub key_specs: &'static [KeySpec],
}

/// Flags of a [`Command`], one bit per flag that `COMMAND INFO` reports.
///
/// ```
/// use redis_script_analysis::{CommandFlags, find_command};
///
/// let watch = find_command("watch").unwrap();
/// assert!(watch.flags.contains(CommandFlags::NOSCRIPT));
/// assert!(watch.flags.names().any(|name| name == "noscript"));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CommandFlags(u32);

macro_rules! command_flags {
    ($($(#[$doc:meta])* $constant:ident = $bit:expr, $name:literal;)*) => {
        impl CommandFlags {
            $($(#[$doc])* pub const $constant: CommandFlags = CommandFlags(1 << $bit);)*

            /// Every flag with its name in `COMMAND INFO`.
            const NAMED: &'static [(CommandFlags, &'static str)] = &[$((CommandFlags::$constant, $name)),*];
        }
    };
}

command_flags! {
    /// `write`: the command may modify data.
    WRITE = 0, "write";
    /// `readonly`: the command only reads data.
    READONLY = 1, "readonly";
    /// `denyoom`: the command may grow memory and is refused when over `maxmemory`.
    DENYOOM = 2, "denyoom";
    /// `module`: the command comes from a module.
    MODULE = 3, "module";
    /// `admin`: an administrative command.
    ADMIN = 4, "admin";
    /// `pubsub`: a Pub/Sub command.
    PUBSUB = 5, "pubsub";
    /// `noscript`: the command cannot be called from a script.
    NOSCRIPT = 6, "noscript";
    /// `blocking`: the command may block the client.
    BLOCKING = 7, "blocking";
    /// `loading`: allowed while the database is loading.
    LOADING = 8, "loading";
    /// `stale`: allowed on a replica with stale data.
    STALE = 9, "stale";
    /// `skip_monitor`: not shown in `MONITOR`.
    SKIP_MONITOR = 10, "skip_monitor";
    /// `skip_slowlog`: not shown in the slow log.
    SKIP_SLOWLOG = 11, "skip_slowlog";
    /// `asking`: allowed on importing slots in a cluster.
    ASKING = 12, "asking";
    /// `fast`: O(1) or O(log N).
    FAST = 13, "fast";
    /// `no_auth`: allowed before authentication.
    NO_AUTH = 14, "no_auth";
    /// `may_replicate`: may be propagated to replicas even though it does not write; scripts
    /// flagged `no-writes` cannot call it.
    MAY_REPLICATE = 15, "may_replicate";
    /// `sentinel`: available in Sentinel mode.
    SENTINEL = 16, "sentinel";
    /// `only_sentinel`: available only in Sentinel mode.
    ONLY_SENTINEL = 17, "only_sentinel";
    /// `no_mandatory_keys`: key arguments are optional.
    NO_MANDATORY_KEYS = 18, "no_mandatory_keys";
    /// `protected`: refused unless enabled in the configuration.
    PROTECTED = 19, "protected";
    /// `module_getkeys`: a module command that finds its keys itself.
    MODULE_GETKEYS = 20, "module_getkeys";
    /// `module_no_cluster`: a module command refused in cluster mode.
    MODULE_NO_CLUSTER = 21, "module_no_cluster";
    /// `no_async_loading`: refused during asynchronous loading.
    NO_ASYNC_LOADING = 22, "no_async_loading";
    /// `no_multi`: refused inside `MULTI`.
    NO_MULTI = 23, "no_multi";
    /// `movablekeys`: key positions depend on the arguments.
    MOVABLEKEYS = 24, "movablekeys";
    /// `allow_busy`: allowed while a script is busy.
    ALLOW_BUSY = 25, "allow_busy";
    /// `module_getchannels`: a module command that finds its channels itself.
    MODULE_GETCHANNELS = 26, "module_getchannels";
    /// `touches_arbitrary_keys`: may touch keys not given as arguments.
    TOUCHES_ARBITRARY_KEYS = 27, "touches_arbitrary_keys";
    /// `skip_commandlog`: not shown in Valkey's command log (its name for `skip_slowlog`).
    SKIP_COMMANDLOG = 28, "skip_commandlog";
}

impl CommandFlags {
    /// No flag.
    ///
    /// ```
    /// assert!(redis_script_analysis::CommandFlags::NONE.names().next().is_none());
    /// ```
    pub const NONE: CommandFlags = CommandFlags(0);

    /// Both sets of flags; `const`, for the generated table.
    ///
    /// ```
    /// use redis_script_analysis::CommandFlags;
    ///
    /// let flags = CommandFlags::WRITE.union(CommandFlags::DENYOOM);
    /// assert!(flags.contains(CommandFlags::WRITE) && flags.contains(CommandFlags::DENYOOM));
    /// ```
    pub const fn union(self, other: CommandFlags) -> CommandFlags {
        CommandFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    ///
    /// ```
    /// use redis_script_analysis::CommandFlags;
    ///
    /// assert!(!CommandFlags::WRITE.contains(CommandFlags::READONLY));
    /// ```
    pub const fn contains(self, other: CommandFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    ///
    /// ```
    /// use redis_script_analysis::CommandFlags;
    ///
    /// let either = CommandFlags::WRITE.union(CommandFlags::MAY_REPLICATE);
    /// assert!(CommandFlags::WRITE.intersects(either));
    /// ```
    pub const fn intersects(self, other: CommandFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// The flag named as in `COMMAND INFO` (`"write"`, `"noscript"`, ...).
    ///
    /// ```
    /// use redis_script_analysis::CommandFlags;
    ///
    /// assert_eq!(CommandFlags::from_name("write"), Some(CommandFlags::WRITE));
    /// assert_eq!(CommandFlags::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<CommandFlags> {
        CommandFlags::NAMED
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(flag, _)| *flag)
    }

    /// The names of the flags that are set, as in `COMMAND INFO`.
    ///
    /// ```
    /// use redis_script_analysis::CommandFlags;
    ///
    /// let names: Vec<_> = CommandFlags::WRITE.union(CommandFlags::FAST).names().collect();
    /// assert_eq!(names, ["write", "fast"]);
    /// ```
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        CommandFlags::NAMED
            .iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
    }
}

impl fmt::Debug for CommandFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Flags of a [`KeySpec`]: how the command uses the keys it finds.
///
/// ```
/// use redis_script_analysis::{KeySpecFlags, find_command};
///
/// let spec = find_command("set").unwrap().key_specs[0];
/// assert!(spec.flags.contains(KeySpecFlags::RW));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KeySpecFlags(u16);

macro_rules! key_spec_flags {
    ($($(#[$doc:meta])* $constant:ident = $bit:expr, $name:literal;)*) => {
        impl KeySpecFlags {
            $($(#[$doc])* pub const $constant: KeySpecFlags = KeySpecFlags(1 << $bit);)*

            const NAMED: &'static [(KeySpecFlags, &'static str)] = &[$((KeySpecFlags::$constant, $name)),*];
        }
    };
}

key_spec_flags! {
    /// `RO`: read-only access.
    RO = 0, "RO";
    /// `RW`: read-write access.
    RW = 1, "RW";
    /// `OW`: overwrite.
    OW = 2, "OW";
    /// `RM`: deletes the key.
    RM = 3, "RM";
    /// `access`: returns or copies user data.
    ACCESS = 4, "access";
    /// `update`: updates data.
    UPDATE = 5, "update";
    /// `insert`: adds data.
    INSERT = 6, "insert";
    /// `delete`: removes data.
    DELETE = 7, "delete";
    /// `not_key`: the argument is not a key but is hashed like one (a shard channel).
    NOT_KEY = 8, "not_key";
    /// `incomplete`: the spec may miss some keys.
    INCOMPLETE = 9, "incomplete";
    /// `variable_flags`: the access flags depend on the arguments.
    VARIABLE_FLAGS = 10, "variable_flags";
}

impl KeySpecFlags {
    /// No flag.
    ///
    /// ```
    /// assert!(!redis_script_analysis::KeySpecFlags::NONE.contains(redis_script_analysis::KeySpecFlags::RO));
    /// ```
    pub const NONE: KeySpecFlags = KeySpecFlags(0);

    /// Both sets of flags; `const`, for the generated table.
    ///
    /// ```
    /// use redis_script_analysis::KeySpecFlags;
    ///
    /// assert!(KeySpecFlags::RO.union(KeySpecFlags::ACCESS).contains(KeySpecFlags::ACCESS));
    /// ```
    pub const fn union(self, other: KeySpecFlags) -> KeySpecFlags {
        KeySpecFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    ///
    /// ```
    /// use redis_script_analysis::KeySpecFlags;
    ///
    /// assert!(!KeySpecFlags::RO.contains(KeySpecFlags::RW));
    /// ```
    pub const fn contains(self, other: KeySpecFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flag named as in `COMMAND INFO` (`"RO"`, `"not_key"`, ...).
    ///
    /// ```
    /// use redis_script_analysis::KeySpecFlags;
    ///
    /// assert_eq!(KeySpecFlags::from_name("not_key"), Some(KeySpecFlags::NOT_KEY));
    /// ```
    pub fn from_name(name: &str) -> Option<KeySpecFlags> {
        KeySpecFlags::NAMED
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(flag, _)| *flag)
    }

    /// The names of the flags that are set.
    ///
    /// ```
    /// use redis_script_analysis::KeySpecFlags;
    ///
    /// assert_eq!(KeySpecFlags::RW.names().collect::<Vec<_>>(), ["RW"]);
    /// ```
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        KeySpecFlags::NAMED
            .iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
    }
}

impl fmt::Debug for KeySpecFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// One Redis 7 key specification: where the search for keys begins and how keys are found
/// from there. Positions count the command's own name as word 0.
///
/// ```
/// use redis_script_analysis::{BeginSearch, FindKeys, find_command};
///
/// let spec = find_command("mset").unwrap().key_specs[0];
/// assert_eq!(spec.begin_search, BeginSearch::Index(1));
/// assert_eq!(spec.find_keys, FindKeys::Range { last_key: -1, key_step: 2, limit: 0 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// How the keys found are used.
    pub flags: KeySpecFlags,
    /// Where the search begins.
    pub begin_search: BeginSearch,
    /// How keys are found from there.
    pub find_keys: FindKeys,
}

/// Where the search for a [`KeySpec`]'s keys begins.
///
/// ```
/// use redis_script_analysis::{BeginSearch, find_command};
///
/// let spec = find_command("xread").unwrap().key_specs[0];
/// assert_eq!(spec.begin_search, BeginSearch::Keyword { keyword: "STREAMS", start_from: 1 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this fixed word.
    Index(i32),
    /// After the first word equal (case-insensitively) to `keyword`, searching from word
    /// `start_from` forwards, or, when negative, from that far from the end backwards.
    Keyword {
        /// The keyword, as the server spells it.
        keyword: &'static str,
        /// Where the search starts.
        start_from: i32,
    },
    /// The server cannot say (e.g. `SORT ... STORE`).
    Unknown,
}

/// How a [`KeySpec`]'s keys are found from where the search began.
///
/// ```
/// use redis_script_analysis::{FindKeys, find_command};
///
/// let spec = find_command("eval").unwrap().key_specs[0];
/// assert_eq!(spec.find_keys, FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from the beginning to `last_key` (relative to it; negative counts from the end of
    /// the words), every `key_step` words; with a `limit`, only the first `1/limit` of the rest.
    Range {
        /// The last key, relative to the beginning; negative from the end.
        last_key: i32,
        /// Words from one key to the next.
        key_step: i32,
        /// With `last_key` -1: the part of the remaining words that are keys (2 = half).
        limit: i32,
    },
    /// The word at `key_num_index` (relative to the beginning) is the number of keys, which
    /// start at `first_key` (relative to the beginning).
    KeyNum {
        /// Where the number of keys is.
        key_num_index: i32,
        /// Where the first key is.
        first_key: i32,
        /// Words from one key to the next.
        key_step: i32,
    },
    /// The server cannot say.
    Unknown,
}

/// Which words of a call are keys, as far as [`Command::key_positions`] can tell.
///
/// ```
/// use redis_script_analysis::find_command;
///
/// let del = find_command("del").unwrap();
/// let found = del.key_positions(&[Some("del"), None, None], false);
/// assert_eq!(found.positions, [1, 2]);
/// assert_eq!(found.open_from, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPositions {
    /// Word positions (0 is the command name) that are certainly keys, ascending.
    pub positions: Vec<usize>,
    /// For a call whose words go on past those known (`unpack(...)` last): every word from
    /// this position on is a key.
    pub open_from: Option<usize>,
}

impl Command {
    /// The name as written in documentation: `GET`, `OBJECT ENCODING`.
    ///
    /// ```
    /// let encoding = redis_script_analysis::find_command("object")
    ///     .and_then(|object| object.subcommand("encoding"))
    ///     .unwrap();
    /// assert_eq!(encoding.display_name(), "OBJECT ENCODING");
    /// ```
    pub fn display_name(&self) -> String {
        self.name.replace('|', " ").to_ascii_uppercase()
    }

    /// Whether a call of `words` words (the name, and the subcommand name, included) satisfies
    /// the arity.
    ///
    /// ```
    /// let get = redis_script_analysis::find_command("get").unwrap();
    /// assert!(get.accepts_word_count(2) && !get.accepts_word_count(3));
    /// let del = redis_script_analysis::find_command("del").unwrap();
    /// assert!(del.accepts_word_count(5) && !del.accepts_word_count(1));
    /// ```
    pub fn accepts_word_count(&self, words: usize) -> bool {
        let required = self.arity.unsigned_abs() as usize;
        if self.arity >= 0 {
            words == required
        } else {
            words >= required
        }
    }

    /// The command as `target` defines it: the arity, flags and key specifications of the
    /// target's version where they differ from the table's main entry.
    ///
    /// ```
    /// use redis_script_analysis::{CommandFlags, Target, find_command};
    ///
    /// let blpop = find_command("blpop").unwrap();
    /// let old: Target = "redis-7.0".parse().unwrap();
    /// assert!(blpop.on(old).flags.contains(CommandFlags::NOSCRIPT));
    /// ```
    pub fn on(&self, target: Target) -> Command {
        let mut command = *self;
        if let Some(variant) = self.variants.iter().find(|variant| {
            variant.server == target.server
                && variant.from <= target.version
                && variant.until.is_none_or(|until| target.version < until)
        }) {
            command.arity = variant.arity;
            command.flags = variant.flags;
            command.key_specs = variant.key_specs;
        }
        command
    }

    /// Whether the target has the command, on its version and every later one.
    ///
    /// ```
    /// use redis_script_analysis::{Target, find_command};
    ///
    /// let hexpire = find_command("hexpire").unwrap();
    /// assert!(hexpire.available_on("redis-7.4".parse::<Target>().unwrap()));
    /// assert!(!hexpire.available_on(Target::DEFAULT));
    /// ```
    pub fn available_on(&self, target: Target) -> bool {
        target.has(target.server, self.since.of(target.server))
    }

    /// The subcommand named `name` (case-insensitive), for a container command.
    ///
    /// ```
    /// let xinfo = redis_script_analysis::find_command("XINFO").unwrap();
    /// assert_eq!(xinfo.subcommand("Stream").unwrap().name, "xinfo|stream");
    /// assert!(xinfo.subcommand("nope").is_none());
    /// ```
    pub fn subcommand(&self, name: &str) -> Option<&'static Command> {
        let prefix_length = self.name.len() + 1;
        search(self.subcommands, name, |command| {
            command.name.get(prefix_length..).unwrap_or(command.name)
        })
    }

    /// The words of a call that are keys, following Redis's own algorithm over the key
    /// specifications. `words[i]` is the text of word `i` when it is known (a literal), `None`
    /// otherwise; `open_ended` says that more words of unknown number follow the known ones.
    ///
    /// Only what is certain is reported: a keyword that might be hidden in an unknown word, a
    /// key count that is not a literal, or a position counted from an unknown end ends the
    /// search of that specification. Specifications flagged `not_key` are skipped.
    ///
    /// ```
    /// use redis_script_analysis::find_command;
    ///
    /// let mset = find_command("mset").unwrap();
    /// let found = mset.key_positions(&[Some("mset"), None, None, None, None], false);
    /// assert_eq!(found.positions, [1, 3]);
    ///
    /// let xread = find_command("xread").unwrap();
    /// let words = [Some("xread"), Some("STREAMS"), None, None, Some("0"), Some("0")];
    /// assert_eq!(xread.key_positions(&words, false).positions, [2, 3]);
    /// ```
    pub fn key_positions(&self, words: &[Option<&str>], open_ended: bool) -> KeyPositions {
        let mut found = KeyPositions::default();
        let argc = words.len();
        for spec in self.key_specs {
            if spec.flags.contains(KeySpecFlags::NOT_KEY) {
                continue;
            }
            let Some(first) = begin_search(spec.begin_search, words, open_ended) else {
                continue;
            };
            match spec.find_keys {
                FindKeys::Range {
                    last_key,
                    key_step,
                    limit,
                } => {
                    let step = key_step.max(1) as usize;
                    let last = if last_key >= 0 {
                        first.checked_add(last_key as usize)
                    } else if open_ended {
                        if last_key == -1 && limit <= 1 {
                            // Every word from `first` on, stepping, up to the unknown end.
                            if step == 1 && found.open_from.is_none_or(|from| first < from) {
                                found.open_from = Some(first);
                            }
                            push_range(&mut found, first, argc.checked_sub(1), step);
                        }
                        continue;
                    } else if limit <= 0 {
                        (argc as i64 + i64::from(last_key)).try_into().ok()
                    } else {
                        let rest = argc.saturating_sub(first) / limit as usize;
                        (first as i64 + rest as i64 + i64::from(last_key))
                            .try_into()
                            .ok()
                    };
                    let Some(last) = last else { continue };
                    if open_ended || (last < argc && first <= last && first < argc) {
                        push_range(
                            &mut found,
                            first,
                            Some(last.min(argc.saturating_sub(1))),
                            step,
                        );
                    }
                }
                FindKeys::KeyNum {
                    key_num_index,
                    first_key,
                    key_step,
                } => {
                    let Some(count) = usize::try_from(key_num_index)
                        .ok()
                        .and_then(|index| words.get(first.checked_add(index)?).copied().flatten())
                        .and_then(|text| text.trim().parse::<i64>().ok())
                    else {
                        continue;
                    };
                    let Ok(first) = usize::try_from(first as i64 + i64::from(first_key)) else {
                        continue;
                    };
                    if count <= 0 {
                        continue;
                    }
                    // The count is whatever the script wrote, up to `i64::MAX`.
                    let Some(last) = usize::try_from(count - 1)
                        .ok()
                        .and_then(|extra| first.checked_add(extra))
                    else {
                        continue;
                    };
                    if !open_ended && last >= argc {
                        continue; // a syntax error the server reports itself
                    }
                    push_range(
                        &mut found,
                        first,
                        Some(last.min(argc.saturating_sub(1))),
                        key_step.max(1) as usize,
                    );
                }
                FindKeys::Unknown => {}
            }
        }
        found.positions.sort_unstable();
        found.positions.dedup();
        found
    }
}

fn push_range(found: &mut KeyPositions, first: usize, last: Option<usize>, step: usize) {
    let Some(last) = last else { return };
    let mut position = first;
    while position <= last {
        found.positions.push(position);
        position += step;
    }
}

/// Where a key spec's keys begin, or `None` when that cannot be known (or there are none).
fn begin_search(begin: BeginSearch, words: &[Option<&str>], open_ended: bool) -> Option<usize> {
    match begin {
        BeginSearch::Index(index) => usize::try_from(index).ok(),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let argc = words.len();
            if start_from > 0 {
                // Redis searches up to, not including, the last word.
                let start = start_from as usize;
                let end = argc.saturating_sub(if open_ended { 0 } else { 1 });
                for (index, word) in words.iter().enumerate().take(end).skip(start) {
                    match word {
                        Some(word) if word.eq_ignore_ascii_case(keyword) => return Some(index + 1),
                        Some(_) => {}
                        None => return None,
                    }
                }
                None
            } else {
                if open_ended {
                    return None;
                }
                let start = argc.checked_sub(start_from.unsigned_abs() as usize)?;
                for index in (1..=start).rev() {
                    match words.get(index).copied().flatten() {
                        Some(word) if word.eq_ignore_ascii_case(keyword) => return Some(index + 1),
                        Some(_) => {}
                        None => return None,
                    }
                }
                None
            }
        }
        BeginSearch::Unknown => None,
    }
}

/// The command named `name`, case-insensitively; subcommands are found with
/// [`Command::subcommand`].
///
/// ```
/// use redis_script_analysis::find_command;
///
/// assert_eq!(find_command("hIncrBy").unwrap().name, "hincrby");
/// assert!(find_command("hincrbyy").is_none());
/// ```
pub fn find_command(name: &str) -> Option<&'static Command> {
    search(COMMANDS, name, |command| command.name)
}

/// Binary search of a slice sorted by lowercase name, comparing case-insensitively.
fn search(
    commands: &'static [Command],
    name: &str,
    key: impl Fn(&Command) -> &str,
) -> Option<&'static Command> {
    commands
        .binary_search_by(|command| compare_lowercase(key(command), name))
        .ok()
        .map(|index| &commands[index])
}

/// Compares `known` (lowercase) with `name` lowercased, without allocating.
fn compare_lowercase(known: &str, name: &str) -> Ordering {
    known
        .bytes()
        .cmp(name.bytes().map(|byte| byte.to_ascii_lowercase()))
}

/// The commands (and, for a container, the subcommands of `container`) whose names are
/// closest to `name`: those at the smallest edit distance (at most three), within a distance that
/// grows with the name's length.
///
/// ```
/// use redis_script_analysis::similar_commands;
///
/// assert_eq!(similar_commands("HINCRBYY", None), ["HINCRBY"]);
/// let object = redis_script_analysis::find_command("object").unwrap();
/// assert_eq!(similar_commands("encodng", Some(object)), ["ENCODING"]);
/// ```
pub fn similar_commands(name: &str, container: Option<&Command>) -> Vec<String> {
    let candidates: Box<dyn Iterator<Item = &str>> = match container {
        Some(container) => {
            let prefix_length = container.name.len() + 1;
            Box::new(
                container
                    .subcommands
                    .iter()
                    .map(move |command| command.name.get(prefix_length..).unwrap_or(command.name)),
            )
        }
        None => Box::new(COMMANDS.iter().map(|command| command.name)),
    };
    closest_names(name, candidates)
        .into_iter()
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The up to three `candidates` closest to `name`, ignoring case: those at the smallest edit
/// distance, if it is within a third of the name's length (at least 1, at most 3).
pub(crate) fn closest_names<'n>(
    name: &str,
    candidates: impl IntoIterator<Item = &'n str>,
) -> Vec<&'n str> {
    let wanted = name.to_ascii_lowercase();
    let budget = (wanted.chars().count() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let distance = edit_distance(&wanted, &candidate.to_ascii_lowercase(), budget)?;
            Some((distance, candidate))
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |(distance, _)| *distance);
    scored
        .into_iter()
        .take_while(|(distance, _)| *distance == best)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

/// Levenshtein distance between `a` and `b` (by characters), or `None` when it exceeds
/// `budget`. Adjacent transpositions count as one edit.
pub(crate) fn edit_distance(a: &str, b: &str, budget: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > budget {
        return None;
    }
    // Optimal string alignment distance, three rows.
    let mut before_previous = vec![0usize; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before_previous[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= budget).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} / {}",
                pair[0].name,
                pair[1].name
            );
        }
        for command in COMMANDS {
            for pair in command.subcommands.windows(2) {
                assert!(
                    pair[0].name < pair[1].name,
                    "{} / {}",
                    pair[0].name,
                    pair[1].name
                );
            }
            assert!(
                command.name.bytes().all(|byte| !byte.is_ascii_uppercase()),
                "{}",
                command.name
            );
        }
        assert!(COMMANDS.len() > 200, "{}", COMMANDS.len());
    }

    #[test]
    fn every_command_is_found_by_name() {
        for command in COMMANDS {
            assert_eq!(find_command(command.name), Some(command));
            assert_eq!(
                find_command(&command.name.to_ascii_uppercase()),
                Some(command)
            );
            for sub in command.subcommands {
                let short = sub.name.split('|').nth(1).unwrap();
                assert_eq!(command.subcommand(short), Some(sub));
            }
        }
        assert!(find_command("").is_none());
        assert!(find_command("object|encoding").is_none());
    }

    #[test]
    fn subcommands_are_covered() {
        for (container, sub) in [
            ("object", "encoding"),
            ("xinfo", "stream"),
            ("client", "kill"),
            ("config", "get"),
            ("script", "load"),
            ("xgroup", "create"),
        ] {
            let command = find_command(container).unwrap();
            assert!(command.subcommand(sub).is_some(), "{container} {sub}");
        }
        let encoding = find_command("object")
            .unwrap()
            .subcommand("encoding")
            .unwrap();
        assert_eq!(encoding.arity, 3);
        assert_eq!(encoding.syntax, "OBJECT ENCODING key");
        assert_eq!(
            encoding
                .key_positions(&[Some("object"), Some("encoding"), None], false)
                .positions,
            [2]
        );
    }

    #[test]
    fn key_positions_follow_the_specs() {
        let eval = find_command("eval").unwrap();
        let words = [Some("eval"), Some("return 1"), Some("2"), None, None, None];
        assert_eq!(eval.key_positions(&words, false).positions, [3, 4]);
        let unknown_count = [Some("eval"), Some("return 1"), None, None];
        assert_eq!(
            eval.key_positions(&unknown_count, false).positions,
            Vec::<usize>::new()
        );

        let del = find_command("del").unwrap();
        let open = del.key_positions(&[Some("del"), None], true);
        assert_eq!(open.positions, [1]);
        assert_eq!(open.open_from, Some(1));

        let blpop = find_command("blpop").unwrap();
        assert_eq!(
            blpop
                .key_positions(&[Some("blpop"), None, None, Some("0")], false)
                .positions,
            [1, 2]
        );
        assert_eq!(
            blpop.key_positions(&[Some("blpop"), None], true).positions,
            Vec::<usize>::new()
        );

        let xread = find_command("xread").unwrap();
        let hidden = [
            Some("xread"),
            Some("COUNT"),
            None,
            Some("STREAMS"),
            None,
            Some("0"),
        ];
        assert_eq!(
            xread.key_positions(&hidden, false).positions,
            Vec::<usize>::new()
        );

        let set = find_command("set").unwrap();
        assert_eq!(
            set.key_positions(&[Some("set"), None, None, Some("EX"), None], false)
                .positions,
            [1]
        );

        let spublish = find_command("spublish").unwrap();
        assert_eq!(
            spublish
                .key_positions(&[Some("spublish"), None, None], false)
                .positions,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn huge_key_counts_do_not_overflow() {
        const HUGE: &str = "9223372036854775807";
        for (command, words) in [
            (
                "zunionstore",
                vec![Some("zunionstore"), None, Some(HUGE), None],
            ),
            ("lmpop", vec![Some("lmpop"), Some(HUGE), None, Some("LEFT")]),
            ("sintercard", vec![Some("sintercard"), Some(HUGE), None]),
            ("zinter", vec![Some("zinter"), Some(HUGE), None]),
            ("zdiff", vec![Some("zdiff"), Some(HUGE), None]),
            (
                "eval",
                vec![Some("eval"), Some("return 1"), Some(HUGE), None],
            ),
        ] {
            let found = find_command(command).unwrap();
            // More keys announced than words given: a syntax error Redis reports itself.
            assert_eq!(
                found.key_positions(&words, false).positions,
                if command == "zunionstore" {
                    vec![1]
                } else {
                    vec![]
                },
                "{command}"
            );
            // With an open end, the keys run to the last word known.
            let open = found.key_positions(&words, true).positions;
            assert_eq!(open.last(), Some(&(words.len() - 1)), "{command}");
            let negative: Vec<_> = words
                .iter()
                .map(|word| {
                    if *word == Some(HUGE) {
                        Some("-9223372036854775808")
                    } else {
                        *word
                    }
                })
                .collect();
            assert!(
                found.key_positions(&negative, true).positions.len() <= 1,
                "{command}"
            );
        }
    }

    #[test]
    fn suggestions_are_close_names() {
        assert_eq!(similar_commands("hincrbyy", None), ["HINCRBY"]);
        assert!(similar_commands("zzzzzzzzzzzz", None).is_empty());
        assert_eq!(similar_commands("lpsuh", None)[0], "LPUSH");
        assert_eq!(edit_distance("abc", "acb", 3), Some(1));
        assert_eq!(edit_distance("", "abc", 3), Some(3));
        assert_eq!(edit_distance("abcdef", "a", 2), None);
    }
}
