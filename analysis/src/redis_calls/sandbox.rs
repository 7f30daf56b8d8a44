//! Which globals and table members the Lua sandbox of a target server has: those of every
//! server ([`LUA_GLOBALS`], [`LUA_LIBRARY_MEMBERS`]) and those that only some servers or
//! versions have ([`LUA_GLOBALS_BY_SERVER`], [`LUA_LIBRARY_MEMBERS_BY_SERVER`]).

use super::command_table::{
    LUA_GLOBALS, LUA_GLOBALS_BY_SERVER, LUA_LIBRARY_MEMBERS, LUA_LIBRARY_MEMBERS_BY_SERVER,
};
use super::commands::Since;
use crate::Target;

/// Globals that are a second name of another global's table, which a script may use
/// instead wherever the alias is missing: Valkey sets `server` and keeps `redis` as the same
/// table (the generator checks this on every Valkey server it runs).
pub(crate) const GLOBAL_ALIASES: &[(&str, &str)] = &[("server", "redis")];

/// Since which version each server has the global `name` of the Lua sandbox; `None` when no
/// server of the command table has it.
///
/// ```
/// use redis_script_analysis::{Since, Version, global_since};
///
/// assert_eq!(global_since("redis"), Some(Since::EVERY_SERVER));
/// assert_eq!(global_since("server").unwrap().redis, None); // Valkey's alias of `redis`
/// assert_eq!(global_since("os").unwrap().redis, Some(Version::new(7, 4)));
/// assert_eq!(global_since("io"), None);
/// ```
pub fn global_since(name: &str) -> Option<Since> {
    if LUA_GLOBALS.binary_search(&name).is_ok() {
        return Some(Since::EVERY_SERVER);
    }
    LUA_GLOBALS_BY_SERVER
        .binary_search_by_key(&name, |(global, _)| global)
        .ok()
        .map(|index| LUA_GLOBALS_BY_SERVER[index].1)
}

/// Since which version each server has `member` in the sandbox's table `table`; `None` when
/// no server of the command table has it.
///
/// ```
/// use redis_script_analysis::{Since, Version, member_since};
///
/// assert_eq!(member_since("cjson", "decode"), Some(Since::EVERY_SERVER));
/// let valkey_version = member_since("redis", "VALKEY_VERSION").unwrap();
/// assert_eq!((valkey_version.redis, valkey_version.valkey), (None, Some(Version::new(7, 2))));
/// assert_eq!(member_since("cjson", "decod"), None);
/// ```
pub fn member_since(table: &str, member: &str) -> Option<Since> {
    let shared = LUA_LIBRARY_MEMBERS
        .binary_search_by_key(&table, |(name, _)| name)
        .ok()
        .map(|index| LUA_LIBRARY_MEMBERS[index].1);
    if shared.is_some_and(|members| members.binary_search(&member).is_ok()) {
        return Some(Since::EVERY_SERVER);
    }
    let index = LUA_LIBRARY_MEMBERS_BY_SERVER
        .binary_search_by_key(&table, |(name, _)| name)
        .ok()?;
    let members = LUA_LIBRARY_MEMBERS_BY_SERVER[index].1;
    members
        .binary_search_by_key(&member, |(name, _)| name)
        .ok()
        .map(|index| members[index].1)
}

/// The globals of the target's Lua sandbox, sorted.
///
/// ```
/// use redis_script_analysis::{Target, sandbox_globals};
///
/// assert!(!sandbox_globals(Target::DEFAULT).contains(&"server"));
/// assert!(sandbox_globals("valkey-8.1".parse().unwrap()).contains(&"server"));
/// ```
pub fn sandbox_globals(target: Target) -> Vec<&'static str> {
    let mut globals: Vec<&'static str> = LUA_GLOBALS
        .iter()
        .copied()
        .chain(
            LUA_GLOBALS_BY_SERVER
                .iter()
                .filter(|(_, since)| since.available_on(target))
                .map(|(name, _)| *name),
        )
        .collect();
    globals.sort_unstable();
    globals
}

/// The members of the table `table` of the target's Lua sandbox, sorted; `None` when the
/// target has no such table, or one whose members cannot be listed (`_G`, `KEYS`, `ARGV`).
///
/// ```
/// use redis_script_analysis::{Target, sandbox_members};
///
/// let valkey: Target = "valkey-8.1".parse().unwrap();
/// assert!(sandbox_members("server", valkey).unwrap().contains(&"call"));
/// assert_eq!(sandbox_members("server", Target::DEFAULT), None);
/// assert!(!sandbox_members("redis", Target::DEFAULT).unwrap().contains(&"VALKEY_VERSION"));
/// ```
pub fn sandbox_members(table: &str, target: Target) -> Option<Vec<&'static str>> {
    if !global_since(table).is_some_and(|since| since.available_on(target)) {
        return None;
    }
    let shared = LUA_LIBRARY_MEMBERS
        .binary_search_by_key(&table, |(name, _)| name)
        .ok()
        .map(|index| LUA_LIBRARY_MEMBERS[index].1);
    let other = LUA_LIBRARY_MEMBERS_BY_SERVER
        .binary_search_by_key(&table, |(name, _)| name)
        .ok()
        .map(|index| LUA_LIBRARY_MEMBERS_BY_SERVER[index].1);
    if shared.is_none() && other.is_none() {
        return None;
    }
    let mut members: Vec<&'static str> = shared
        .unwrap_or_default()
        .iter()
        .copied()
        .chain(
            other
                .unwrap_or_default()
                .iter()
                .filter(|(_, since)| since.available_on(target))
                .map(|(name, _)| *name),
        )
        .collect();
    members.sort_unstable();
    Some(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Server, Version};

    #[test]
    fn the_data_is_sorted_for_binary_search() {
        for pair in LUA_GLOBALS_BY_SERVER.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} / {}", pair[0].0, pair[1].0);
        }
        for pair in LUA_LIBRARY_MEMBERS_BY_SERVER.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} / {}", pair[0].0, pair[1].0);
        }
        for (table, members) in LUA_LIBRARY_MEMBERS_BY_SERVER {
            for pair in members.windows(2) {
                assert!(
                    pair[0].0 < pair[1].0,
                    "{table}: {} / {}",
                    pair[0].0,
                    pair[1].0
                );
            }
        }
    }

    #[test]
    fn names_of_some_servers_are_not_in_the_lists_of_every_server() {
        for (global, since) in LUA_GLOBALS_BY_SERVER {
            assert!(LUA_GLOBALS.binary_search(global).is_err(), "{global}");
            assert_ne!(*since, Since::EVERY_SERVER, "{global}");
        }
        for (table, members) in LUA_LIBRARY_MEMBERS_BY_SERVER {
            for (member, since) in *members {
                assert_ne!(member_since(table, member), None, "{table}.{member}");
                // Available where the table is: never before its global.
                let global = global_since(table).expect("a table of some server");
                for server in [Server::Redis, Server::Valkey] {
                    if let Some(member) = since.of(server) {
                        assert!(global.of(server).is_some_and(|global| global <= member));
                    }
                }
            }
        }
    }

    #[test]
    fn each_target_has_what_its_server_had_by_then() {
        let target = |text: &str| text.parse::<Target>().unwrap();
        // Valkey's first release already has `server` and its version fields.
        for valkey in ["valkey-7.2", "valkey-8.1", "valkey-9.1"] {
            let globals = sandbox_globals(target(valkey));
            assert!(globals.contains(&"server"), "{valkey}");
            let redis = sandbox_members("redis", target(valkey)).unwrap();
            assert!(redis.contains(&"VALKEY_VERSION"), "{valkey}");
            assert_eq!(sandbox_members("server", target(valkey)), Some(redis));
        }
        // `os` (with `clock` only) came with Redis 7.4 and Valkey 8.0, between the versions run.
        for (without, with) in [("redis-7.2", "redis-7.4"), ("valkey-7.2", "valkey-8.0")] {
            assert!(
                !sandbox_globals(target(without)).contains(&"os"),
                "{without}"
            );
            assert_eq!(sandbox_members("os", target(without)), None, "{without}");
            assert_eq!(
                sandbox_members("os", target(with)),
                Some(vec!["clock"]),
                "{with}"
            );
        }
        // A target newer than the table has what the table's newest version has.
        assert!(sandbox_globals(Target::new(Server::Redis, Version::new(9, 0))).contains(&"os"));
        assert!(!sandbox_globals(target("redis-8.2")).contains(&"server"));
        assert_eq!(sandbox_globals(Target::DEFAULT), LUA_GLOBALS);
    }
}
