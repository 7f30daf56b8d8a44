//! Members of the sandbox's tables: `cjson.decode` is one, `cjson.decod` is not, and a
//! script that calls it compiles but fails on the server.

use super::calls::{availability, covered_servers, target_advice};
use super::command_table::LUA_LIBRARY_MEMBERS;
use super::commands::closest_names;
use super::sandbox::member_since;
use super::walker::or_list;
use crate::{Blame, Diagnostic, Lint, Location, Target};

/// The members of the table `library` of the Lua sandbox that every server of the command
/// table has (functions and values alike), or `None` for a name that is not such a table or
/// whose members cannot be listed (`_G`, `KEYS`, `ARGV`); a target's own are
/// [`sandbox_members`](crate::sandbox_members).
///
/// ```
/// use redis_script_analysis::library_members;
///
/// let redis = library_members("redis").unwrap();
/// assert!(redis.contains(&"sha1hex"));
/// assert!(redis.contains(&"LOG_WARNING"));
/// assert!(!redis.contains(&"sha1hexx"));
/// assert_eq!(library_members("KEYS"), None);
/// ```
pub fn library_members(library: &str) -> Option<&'static [&'static str]> {
    LUA_LIBRARY_MEMBERS
        .binary_search_by_key(&library, |(name, _)| name)
        .ok()
        .and_then(|index| LUA_LIBRARY_MEMBERS.get(index))
        .map(|(_, members)| *members)
}

/// Members that scripts reach for out of habit or from newer Lua versions, with what Redis's
/// Lua 5.1 offers instead: the closest real member is no help there.
const FROM_ELSEWHERE: &[(&str, &str, &str)] = &[
    (
        "string",
        "pack",
        "`string.pack` is Lua 5.3's; Redis provides `struct.pack`",
    ),
    (
        "string",
        "split",
        "Lua has no `string.split`; iterate with `for part in string.gmatch(s, '[^,]+') do ... end`",
    ),
    (
        "string",
        "trim",
        "Lua has no `string.trim`; trim with `string.match(s, '^%s*(.-)%s*$')`",
    ),
    (
        "string",
        "unpack",
        "`string.unpack` is Lua 5.3's; Redis provides `struct.unpack`",
    ),
    (
        "os",
        "date",
        "the sandbox's `os` has only `clock`; for the time, use `redis.call('TIME')`",
    ),
    (
        "os",
        "getenv",
        "the sandbox's `os` has only `clock`: scripts cannot read the host's environment",
    ),
    (
        "os",
        "time",
        "the sandbox's `os` has only `clock`; for the time, use `redis.call('TIME')`",
    ),
    (
        "table",
        "pack",
        "`table.pack` is Lua 5.2's; in Lua 5.1 write `{...}`, with `select('#', ...)` for the count",
    ),
    (
        "table",
        "unpack",
        "`table.unpack` is Lua 5.2's; in Lua 5.1 it is the global `unpack`",
    ),
];

/// What the script does with a member, which decides how the script fails without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemberUse {
    /// `cjson.decod(...)`.
    Call,
    /// `string:trimm(...)`.
    MethodCall,
    /// `redis.x.y`, `redis.x:y()`, `function string.x.y() end`.
    Index,
    /// `local level = redis.LOG_WARN`: no error there, only a `nil`.
    Read,
}

/// A use of a name that is not a member of a sandbox table.
pub(crate) struct UnknownMember<'u> {
    pub library: &'u str,
    pub member: &'u str,
    /// Every member of `library` on the target.
    pub members: &'u [&'static str],
    /// The code as written (`cjson.decod`, `cjson['decod']`, `string:trimm`), for the message.
    pub written: &'u str,
    /// `.`, or `:` for a method call, for the suggestions.
    pub separator: char,
    pub used: MemberUse,
    /// Where the member's name is.
    pub location: Location,
    /// The oldest server the script must run on.
    pub target: Target,
}

/// The diagnostic for a member that the target's table lacks: one of another server or a newer
/// version, or one that no server has.
pub(crate) fn unknown_member(unknown: &UnknownMember<'_>) -> Diagnostic {
    let UnknownMember {
        library,
        member,
        members,
        written,
        separator,
        used,
        location,
        target,
    } = *unknown;
    // Lua 5.1's own wording, which is what the script's error shows.
    let consequence = match used {
        MemberUse::Call => {
            format!("the script fails with \"attempt to call field '{member}' (a nil value)\"")
        }
        MemberUse::MethodCall => {
            format!("the script fails with \"attempt to call method '{member}' (a nil value)\"")
        }
        MemberUse::Index => {
            format!("the script fails with \"attempt to index field '{member}' (a nil value)\"")
        }
        MemberUse::Read => "reading it gives `nil`".to_owned(),
    };
    if let Some(since) = member_since(library, member) {
        return Diagnostic {
            lint: Lint::LibraryMemberNotOnTarget,
            origin: None,
            location: Some(location),
            message: format!(
                "`{written}` is not a member of `{library}` on {target}, the oldest server this \
                 script must run on ({}): {consequence}",
                availability(since)
            ),
            help: format!(
                "{}; a script that checks for it first (`if {library}.{member} then ... end`) \
                 may allow the lint",
                target_advice(since, target)
            ),
            blame: Blame::Script,
        };
    }
    let similar: Vec<String> = closest_names(member, members.iter().copied())
        .into_iter()
        .map(|name| format!("`{library}{separator}{name}`"))
        .collect();
    let similar: Vec<&str> = similar.iter().map(String::as_str).collect();
    let suggestion = if similar.is_empty() {
        String::new()
    } else {
        format!("did you mean {}? ", or_list(&similar))
    };
    let elsewhere = FROM_ELSEWHERE
        .iter()
        .filter(|(table, _, _)| *table == library)
        .map(|(_, name, _)| *name);
    let advice = closest_names(member, elsewhere)
        .first()
        .and_then(|closest| {
            FROM_ELSEWHERE
                .iter()
                .find(|(table, name, _)| *table == library && name == closest)
        })
        .map_or(String::new(), |(_, _, advice)| format!("{advice}; "));
    Diagnostic {
        lint: Lint::UnknownLibraryMember,
        origin: None,
        location: Some(location),
        message: format!(
            "`{written}` is not a member of `{library}` in the Lua sandbox of any server ({}): \
             {consequence}",
            covered_servers()
        ),
        help: format!(
            "{suggestion}{advice}fix the name; the members of `{library}` are {}",
            members.join(", ")
        ),
        blame: Blame::Script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_found_and_the_rest_are_not() {
        for (library, members) in LUA_LIBRARY_MEMBERS {
            assert_eq!(library_members(library), Some(*members), "{library}");
        }
        for other in ["KEYS", "ARGV", "_G", "io", "", "cjso"] {
            assert_eq!(library_members(other), None, "{other}");
        }
    }

    #[test]
    fn the_data_is_sorted_for_binary_search() {
        for pair in LUA_LIBRARY_MEMBERS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} / {}", pair[0].0, pair[1].0);
        }
        for (library, members) in LUA_LIBRARY_MEMBERS {
            for pair in members.windows(2) {
                assert!(pair[0] < pair[1], "{library}: {} / {}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn the_message_says_what_fails_and_the_help_what_to_write() {
        let members = library_members("cjson").unwrap_or_default();
        let diagnostic = unknown_member(&UnknownMember {
            library: "cjson",
            member: "decod",
            members,
            written: "cjson.decod",
            separator: '.',
            used: MemberUse::Call,
            location: Location {
                line: 2,
                column: 13,
            },
            target: Target::DEFAULT,
        });
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 2,
                column: 13
            })
        );
        assert_eq!(
            diagnostic.message,
            "`cjson.decod` is not a member of `cjson` in the Lua sandbox of any server (Redis \
             7.0 to 8.2, Valkey 7.2 to 9.1): the script fails with \"attempt to call field \
             'decod' (a nil value)\""
        );
        assert!(
            diagnostic
                .help
                .starts_with("did you mean `cjson.decode`? fix the name; the members of `cjson` are _NAME, _VERSION, decode, "),
            "{}",
            diagnostic.help
        );
        assert_eq!(diagnostic.blame, Blame::Script);
    }

    #[test]
    fn advice_is_only_for_names_the_sandbox_lacks() {
        for (library, name, _) in FROM_ELSEWHERE {
            assert!(
                crate::global_since(library).is_some(),
                "{library} is not a table of the sandbox"
            );
            assert_eq!(
                member_since(library, name),
                None,
                "{library}.{name} exists now"
            );
        }
    }

    #[test]
    fn another_servers_member_says_which_server_has_it() {
        let members = crate::sandbox_members("redis", Target::DEFAULT).unwrap_or_default();
        let diagnostic = unknown_member(&UnknownMember {
            library: "redis",
            member: "VALKEY_VERSION",
            members: &members,
            written: "redis.VALKEY_VERSION",
            separator: '.',
            used: MemberUse::Read,
            location: Location { line: 1, column: 7 },
            target: Target::DEFAULT,
        });
        assert_eq!(diagnostic.lint, Lint::LibraryMemberNotOnTarget);
        assert_eq!(
            diagnostic.message,
            "`redis.VALKEY_VERSION` is not a member of `redis` on redis-7.0, the oldest server \
             this script must run on (only Valkey has it, since 7.2): reading it gives `nil`"
        );
        assert!(
            diagnostic.help.starts_with(
                "Redis does not have it at all; if the crate runs on Valkey only, declare that: \
                 `[package.metadata.redis-script] server = \"valkey-7.2\"`"
            ),
            "{}",
            diagnostic.help
        );
    }

    #[test]
    fn habits_from_other_lua_versions_get_advice() {
        let members = library_members("table").unwrap_or_default();
        let diagnostic = unknown_member(&UnknownMember {
            library: "table",
            member: "unpack",
            members,
            written: "table.unpack",
            separator: '.',
            used: MemberUse::Call,
            location: Location {
                line: 1,
                column: 14,
            },
            target: Target::DEFAULT,
        });
        assert!(
            diagnostic.help.starts_with(
                "`table.unpack` is Lua 5.2's; in Lua 5.1 it is the global `unpack`; fix the \
                 name; the members of `table` are concat, "
            ),
            "{}",
            diagnostic.help
        );
    }

    #[test]
    fn without_a_close_name_the_help_lists_the_members() {
        let members = library_members("struct").unwrap_or_default();
        let diagnostic = unknown_member(&UnknownMember {
            library: "struct",
            member: "serialize",
            members,
            written: "struct.serialize",
            separator: '.',
            used: MemberUse::Read,
            location: Location { line: 1, column: 8 },
            target: Target::DEFAULT,
        });
        assert_eq!(
            diagnostic.help,
            "fix the name; the members of `struct` are pack, size, unpack"
        );
        assert!(diagnostic.message.ends_with("reading it gives `nil`"));
    }
}
