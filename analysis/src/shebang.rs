use crate::{Blame, Diagnostic, Lint, Location};

/// The flags a Redis 7 script can declare in its first line, `#!lua flags=no-writes,allow-oom`.
///
/// ```
/// use redis_script_analysis::ShebangFlags;
///
/// let flags = ShebangFlags { no_writes: true, ..ShebangFlags::default() };
/// assert!(flags.no_writes && !flags.no_cluster);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShebangFlags {
    /// `no-writes`: the script only reads; it may run on replicas and is sent as `EVALSHA_RO`.
    pub no_writes: bool,
    /// `allow-oom`: the script may run when the server is over `maxmemory`.
    pub allow_oom: bool,
    /// `allow-stale`: the script may run on a replica whose link to its primary is down.
    pub allow_stale: bool,
    /// `no-cluster`: Redis refuses to run the script in cluster mode.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`: the script may touch keys of several slots.
    pub allow_cross_slot_keys: bool,
}

impl ShebangFlags {
    /// No flag: what a script without a shebang line (or with a bare `#!lua`) has.
    ///
    /// ```
    /// use redis_script_analysis::ShebangFlags;
    /// assert_eq!(ShebangFlags::NONE, ShebangFlags::default());
    /// ```
    pub const NONE: ShebangFlags = ShebangFlags {
        no_writes: false,
        allow_oom: false,
        allow_stale: false,
        no_cluster: false,
        allow_cross_slot_keys: false,
    };
}

/// A parsed `#!lua` first line.
///
/// ```
/// use redis_script_analysis::parse_shebang;
///
/// let shebang = parse_shebang("#!lua flags=no-writes\nreturn 1").unwrap().unwrap();
/// assert!(shebang.flags.no_writes);
/// assert_eq!(parse_shebang("return 1").unwrap(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shebang {
    /// The declared flags; all false for a bare `#!lua`.
    pub flags: ShebangFlags,
}

const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

/// Parses the shebang line the way Redis 7 does: the line is split into words at whitespace,
/// the first word must be exactly `#!lua`, and every other word must be `flags=a,b,...` with
/// known flags (an empty entry, as in `flags=a,,b` or `flags=a,`, is an unknown flag to Redis
/// too). Returns `Ok(None)` when the script has no shebang.
///
/// ```
/// use redis_script_analysis::parse_shebang;
///
/// let error = parse_shebang("#!lua flags=no-write\nreturn 1").unwrap_err();
/// assert!(error.message.contains("no-write"));
/// assert!(parse_shebang("#!lua\tflags=no-writes\nreturn 1").unwrap().unwrap().flags.no_writes);
/// ```
pub fn parse_shebang(source: &str) -> Result<Option<Shebang>, Diagnostic> {
    if !source.starts_with("#!") {
        return Ok(None);
    }
    let Some(line_end) = source.find('\n') else {
        return Err(error(
            1,
            "the `#!` line is the whole script, so Redis rejects it (\"Invalid script shebang\")",
            "put the script's code on the lines after `#!lua ...`",
        ));
    };
    let mut words = words_with_columns(&source[..line_end]);

    match words.next().unwrap_or((1, "#!")) {
        (_, "#!lua") => {}
        (column, word) => {
            return Err(error(
                column,
                &format!(
                    "`{word}` is not a script engine Redis knows; it only runs `#!lua` scripts"
                ),
                "start the line with `#!lua` (no space after `#!`), e.g. `#!lua flags=no-writes`",
            ));
        }
    }

    let mut shebang = Shebang::default();
    for (column, option) in words {
        let Some(list) = option.strip_prefix("flags=") else {
            return Err(error(
                column,
                &format!("unknown shebang option `{option}`; Redis only knows `flags=`"),
                "write the flags as `#!lua flags=no-writes,allow-oom` (comma-separated, no spaces)",
            ));
        };
        if list.is_empty() {
            continue;
        }
        let mut flag_column = column + "flags=".len();
        for flag in list.split(',') {
            let slot = match flag {
                "no-writes" => &mut shebang.flags.no_writes,
                "allow-oom" => &mut shebang.flags.allow_oom,
                "allow-stale" => &mut shebang.flags.allow_stale,
                "no-cluster" => &mut shebang.flags.no_cluster,
                "allow-cross-slot-keys" => &mut shebang.flags.allow_cross_slot_keys,
                "" => {
                    return Err(error(
                        flag_column,
                        "empty script flag: Redis reads an empty entry between or after commas \
                         as an unknown flag",
                        "remove the extra comma",
                    ));
                }
                unknown => {
                    return Err(error(
                        flag_column,
                        &format!("unknown script flag `{unknown}`"),
                        &format!("Redis knows these flags: {}", FLAG_NAMES.join(", ")),
                    ));
                }
            };
            *slot = true;
            flag_column += flag.chars().count() + 1;
        }
    }
    Ok(Some(shebang))
}

/// The line's words, split at ASCII whitespace as Redis's `sdssplitargs` does, with the
/// 1-based column (in characters) each starts at.
fn words_with_columns(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut column = 1;
    let mut rest = line;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| !c.is_ascii_whitespace())?;
        column += rest[..start].chars().count();
        rest = &rest[start..];
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let word_column = column;
        column += word.chars().count();
        rest = &rest[end..];
        Some((word_column, word))
    })
}

fn error(column: usize, message: &str, help: &str) -> Diagnostic {
    Diagnostic {
        lint: Lint::InvalidShebang,
        origin: None,
        location: Some(Location { line: 1, column }),
        message: message.to_owned(),
        help: help.to_owned(),
        blame: Blame::Script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_flag() {
        let source =
            "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\n";
        let flags = parse_shebang(source).unwrap().unwrap().flags;
        assert_eq!(
            flags,
            ShebangFlags {
                no_writes: true,
                allow_oom: true,
                allow_stale: true,
                no_cluster: true,
                allow_cross_slot_keys: true,
            }
        );
    }

    #[test]
    fn bare_shebang_and_empty_flags_declare_nothing() {
        for source in [
            "#!lua\nreturn 1",
            "#!lua flags=\nreturn 1",
            "#!lua  \r\nreturn 1",
        ] {
            assert_eq!(
                parse_shebang(source),
                Ok(Some(Shebang::default())),
                "{source:?}"
            );
        }
    }

    #[test]
    fn unknown_flag_points_at_it() {
        let error = parse_shebang("#!lua flags=no-writes,allow-oops\nreturn 1").unwrap_err();
        assert_eq!(
            error.location,
            Some(Location {
                line: 1,
                column: 23
            })
        );
        assert_eq!(error.message, "unknown script flag `allow-oops`");
        assert!(error.help.contains("allow-cross-slot-keys"));
    }

    #[test]
    fn unknown_option_and_engine_are_errors() {
        let option = parse_shebang("#!lua name=x\nreturn 1").unwrap_err();
        assert_eq!(option.location, Some(Location { line: 1, column: 7 }));
        assert!(option.message.contains("`name=x`"));
        let engine = parse_shebang("#!python\nreturn 1").unwrap_err();
        assert!(engine.message.contains("`#!python`"));
        let spaced = parse_shebang("#! lua flags=no-writes\nreturn 1").unwrap_err();
        assert!(spaced.message.contains("`#!`"), "{}", spaced.message);
        let whole = parse_shebang("#!lua").unwrap_err();
        assert_eq!(whole.location, Some(Location { line: 1, column: 1 }));
    }

    #[test]
    fn words_split_at_any_whitespace_like_redis() {
        let shebang = parse_shebang("#!lua\t flags=no-writes \r\nreturn 1")
            .unwrap()
            .unwrap();
        assert!(shebang.flags.no_writes);
        let error = parse_shebang("#!lua  flags=a\nreturn 1").unwrap_err();
        assert_eq!(
            error.location,
            Some(Location {
                line: 1,
                column: 14
            })
        );
    }

    #[test]
    fn empty_flag_entries_are_errors_as_in_redis() {
        for source in [
            "#!lua flags=no-writes,\n",
            "#!lua flags=no-writes,,allow-oom\n",
        ] {
            let error = parse_shebang(source).unwrap_err();
            assert!(error.message.starts_with("empty script flag"), "{source:?}");
        }
    }
}
