//! What a server's Lua sandbox provides: its globals and the members of its tables, read by
//! running Lua through `EVAL`; and how the generated table records them per server.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use redis::Value;

use crate::{Family, FullVersion, Observation, Result, array, parse_version, text};

/// Sandbox names (a global, or `table.member`) with the version that added them, where the
/// servers run do not tell: the family's oldest run already has them (Valkey 8.1 has what
/// Valkey 7.2 may lack), or a version between two runs added them. Each comes from the
/// server's source history, and must agree with the runs (checked in [`render`]).
pub(crate) const SANDBOX_SINCE: &[(Family, &str, &str)] = &[
    // Valkey's first release sets the global `server` (the table `redis` under a second name)
    // and the version fields: src/script_lua.c of the tag 7.2.4-rc1, `luaRegisterServerAPI`
    // and `luaRegisterVersion` (valkey-io/valkey#136, #47).
    (Family::Valkey, "server", "7.2.4"),
    (Family::Valkey, "redis.SERVER_NAME", "7.2.4"),
    (Family::Valkey, "redis.VALKEY_VERSION", "7.2.4"),
    (Family::Valkey, "redis.VALKEY_VERSION_NUM", "7.2.4"),
    // "Expose lua os.clock() api" (redis/redis#12971, Feb 2024): an `os` with `clock` only,
    // first in the tags 7.4-rc1 of Redis and 8.0.0-rc1 of Valkey.
    (Family::Redis, "os", "7.4.0"),
    (Family::Redis, "os.clock", "7.4.0"),
    (Family::Valkey, "os", "8.0.0"),
    (Family::Valkey, "os.clock", "8.0.0"),
];

/// Globals that are a second name of another global's table (`server` is Valkey's `redis`):
/// a member of the alias exists wherever both the alias and the table's member do. Each
/// server run that has the alias is checked to hold the very same table ([`check_aliases`]).
pub(crate) const ALIASES: &[(&str, &str)] = &[("server", "redis")];

/// The oldest supported version of a family: 7.0 for Redis, Valkey's first release (7.2) for
/// Valkey, as `redis_script_analysis::Server::oldest` says.
fn oldest(family: Family) -> FullVersion {
    match family {
        Family::Redis => (7, 0, 0),
        Family::Valkey => (7, 2, 0),
    }
}

/// Every global of the sandbox, sorted; Redis's internal error handler excluded.
const GLOBALS_SCRIPT: &str = "local names = {} \
    for name in pairs(_G) do \
      if type(name) == 'string' and string.sub(name, 1, 2) ~= '__' then names[#names + 1] = name end \
    end \
    table.sort(names) return names";

/// `{{table, {member, ...}}, ...}` for every table-valued global.
///
/// `KEYS` and `ARGV` are left out: they hold each call's arguments, not members of the
/// sandbox. So is a table whose metatable has `__index` (the sandbox's `_G`, which raises on
/// unknown names): it may answer names that `pairs` does not list, so its members cannot be
/// enumerated. Only string keys are kept, the only ones a script can write as `t.name`.
const MEMBERS_SCRIPT: &str = "local tables = {} \
    for name, value in pairs(_G) do \
      if type(name) == 'string' and type(value) == 'table' and name ~= 'KEYS' and name ~= 'ARGV' then \
        local meta = getmetatable(value) \
        if meta == nil or (type(meta) == 'table' and rawget(meta, '__index') == nil) then \
          local members = {} \
          for member in pairs(value) do \
            if type(member) == 'string' then members[#members + 1] = member end \
          end \
          tables[#tables + 1] = {name, members} \
        end \
      end \
    end \
    return tables";

/// The globals of the server's Lua sandbox, sorted as Rust compares strings.
pub(crate) fn globals(connection: &mut redis::Connection) -> Result<Vec<String>> {
    let reply = eval(connection, GLOBALS_SCRIPT)?;
    let mut globals = array(&reply)?
        .iter()
        .map(text)
        .collect::<Result<Vec<_>>>()?;
    // Sorted here rather than by Lua, whose `<` follows the server's locale: binary search in
    // the analysis needs Rust's order.
    globals.sort();
    Ok(globals)
}

/// The members of each table of the sandbox, tables and members sorted as Rust compares
/// strings.
pub(crate) fn library_members(
    connection: &mut redis::Connection,
) -> Result<Vec<(String, Vec<String>)>> {
    let reply = eval(connection, MEMBERS_SCRIPT)?;
    let mut tables = array(&reply)?
        .iter()
        .map(|entry| match array(entry)? {
            [name, members] => {
                let mut members = array(members)?
                    .iter()
                    .map(text)
                    .collect::<Result<Vec<_>>>()?;
                members.sort();
                Ok((text(name)?, members))
            }
            other => Err(format!("expected {{table, members}}, got {other:?}")),
        })
        .collect::<Result<Vec<_>>>()?;
    tables.sort();
    Ok(tables)
}

/// Fails unless every alias of [`ALIASES`] that the server has is the very table it names.
pub(crate) fn check_aliases(connection: &mut redis::Connection, globals: &[String]) -> Result<()> {
    for (alias, table) in ALIASES {
        if !globals.iter().any(|global| global == alias) {
            continue;
        }
        // `rawget`: the sandbox's `_G` raises on a name it lacks.
        let script =
            format!("return rawequal(rawget(_G, '{alias}'), rawget(_G, '{table}')) and 1 or 0");
        if eval(connection, &script)? != Value::Int(1) {
            return Err(format!(
                "`{alias}` is not the table `{table}` on this server: the members of `{alias}` \
                 need their own dates (see ALIASES)"
            ));
        }
    }
    Ok(())
}

/// Since which version of `family` the sandbox has `name` (a global, or `table.member`), given
/// whether each version run has it (`runs`, oldest first): like a command's `since`, never
/// before a version run that lacks it. `inherited`: Redis 7.0 has it too, so Valkey has it
/// since its first release, the fork of Redis 7.2.4, unless [`SANDBOX_SINCE`] says otherwise.
fn since(
    family: Family,
    runs: &[(FullVersion, bool)],
    name: &str,
    inherited: bool,
) -> Result<Option<FullVersion>> {
    let Some(first) = runs.iter().position(|(_, has)| *has) else {
        return Ok(None);
    };
    if let Some((gone, _)) = runs[first..].iter().find(|(_, has)| !*has) {
        return Err(format!(
            "`{name}` is missing from {} {gone:?} but an older server has it: the table has no \
             form for removed sandbox names",
            family.code()
        ));
    }
    let first_with = runs[first].0;
    let dated = SANDBOX_SINCE
        .iter()
        .find(|(dated_family, dated_name, _)| *dated_family == family && *dated_name == name)
        .map(|(_, _, version)| {
            parse_version(version).ok_or_else(|| format!("bad version {version} for {name}"))
        })
        .transpose()?;
    if let Some(dated) = dated {
        let lacking = first.checked_sub(1).map(|before| runs[before].0);
        if dated > first_with || lacking.is_some_and(|lacking| dated <= lacking) {
            return Err(format!(
                "SANDBOX_SINCE dates `{name}` to {} {dated:?}, but the {} servers run say \
                 otherwise",
                family.code(),
                family.code()
            ));
        }
        return Ok(Some(dated));
    }
    Ok(Some(
        if first == 0 && (family == Family::Redis || inherited) {
            oldest(family)
        } else {
            first_with
        },
    ))
}

/// One sandbox name's availability per family.
type Availability = (Option<FullVersion>, Option<FullVersion>);

/// Whether every supported version of both families has it: then it belongs to the plain
/// lists (`LUA_GLOBALS`, `LUA_LIBRARY_MEMBERS`).
fn everywhere(availability: Availability) -> bool {
    availability == (Some(oldest(Family::Redis)), Some(oldest(Family::Valkey)))
}

fn since_code((redis, valkey): Availability) -> String {
    let option = |version: Option<FullVersion>| {
        version.map_or_else(
            || "None".to_owned(),
            |(major, minor, _)| format!("Some(V::new({major}, {minor}))"),
        )
    };
    format!(
        "Since {{ redis: {}, valkey: {} }}",
        option(redis),
        option(valkey)
    )
}

/// Appends the sandbox's statics to the generated table: the globals and members every server
/// has, then the others with their availability.
pub(crate) fn render(
    out: &mut String,
    redis: &[&Observation],
    valkey: &[&Observation],
) -> Result<()> {
    let baseline = redis.first().ok_or("no Redis run")?;
    let has_global = |observation: &Observation, name: &str| {
        observation.globals.iter().any(|global| global == name)
    };
    let has_member = |observation: &Observation, table: &str, member: &str| {
        observation
            .members
            .iter()
            .any(|(name, members)| name == table && members.iter().any(|m| m == member))
    };
    let availability = |name: &str, has: &dyn Fn(&Observation) -> bool| -> Result<Availability> {
        let runs = |family: &[&Observation]| -> Vec<(FullVersion, bool)> {
            family.iter().map(|o| (o.version, has(o))).collect()
        };
        Ok((
            since(Family::Redis, &runs(redis), name, false)?,
            since(Family::Valkey, &runs(valkey), name, has(baseline))?,
        ))
    };
    let all = redis.iter().chain(valkey).copied();
    // A date for a name no run of its family has would go stale unnoticed.
    for (family, name, _) in SANDBOX_SINCE {
        let runs = if *family == Family::Redis {
            redis
        } else {
            valkey
        };
        let found = runs.iter().any(|o| match name.split_once('.') {
            Some((table, member)) => has_member(o, table, member),
            None => has_global(o, name),
        });
        if !found {
            return Err(format!(
                "SANDBOX_SINCE dates `{name}`, which no {} server run has",
                family.code()
            ));
        }
    }

    let globals: BTreeSet<&String> = all.clone().flat_map(|o| o.globals.iter()).collect();
    let mut shared_globals = Vec::new();
    let mut other_globals = Vec::new();
    for global in globals {
        let available = availability(global, &|o| has_global(o, global))?;
        if everywhere(available) {
            shared_globals.push(global);
        } else {
            other_globals.push((global, available));
        }
    }

    let members: BTreeSet<(&String, &String)> = all
        .flat_map(|o| {
            o.members
                .iter()
                .flat_map(|(table, members)| members.iter().map(move |member| (table, member)))
        })
        .collect();
    let mut shared_members: Vec<(&String, Vec<&String>)> = Vec::new();
    let mut other_members: Vec<(&String, Vec<(&String, Availability)>)> = Vec::new();
    for (table, member) in members {
        let name = format!("{table}.{member}");
        let mut available = availability(&name, &|o| has_member(o, table, member))?;
        if let Some((_, aliased)) = ALIASES.iter().find(|(alias, _)| alias == table) {
            // The alias's member is the table's member, reachable once the alias is there.
            let alias = availability(table, &|o| has_global(o, table))?;
            let original = availability(&format!("{aliased}.{member}"), &|o| {
                has_member(o, aliased, member)
            })?;
            let later = |a: Option<FullVersion>, b: Option<FullVersion>| Some(a?.max(b?));
            available = (later(alias.0, original.0), later(alias.1, original.1));
        }
        let table_everywhere = everywhere(availability(table, &|o| has_global(o, table))?);
        if everywhere(available) && table_everywhere {
            match shared_members.last_mut() {
                Some((last, list)) if *last == table => list.push(member),
                _ => shared_members.push((table, vec![member])),
            }
        } else {
            match other_members.last_mut() {
                Some((last, list)) if *last == table => list.push((member, available)),
                _ => other_members.push((table, vec![(member, available)])),
            }
        }
    }

    out.push_str(concat!(
        "/// The globals of the Lua sandbox that every server of the table has, sorted (internal\n",
        "/// names starting with `__` left out); the others are in [`LUA_GLOBALS_BY_SERVER`].\n",
        "///\n",
        "/// ```\n",
        "/// use redis_script_analysis::LUA_GLOBALS;\n",
        "///\n",
        "/// assert!(LUA_GLOBALS.binary_search(&\"redis\").is_ok());\n",
        "/// assert!(LUA_GLOBALS.binary_search(&\"io\").is_err()); // no file access in scripts\n",
        "/// ```\n",
        "pub static LUA_GLOBALS: &[&str] = &[\n",
    ));
    for global in shared_globals {
        let _ = writeln!(out, "    {global:?},");
    }
    out.push_str(concat!(
        "];\n\n",
        "/// The globals of the Lua sandbox that only some servers (or versions) of the table have,\n",
        "/// sorted, with since which version each server has them.\n",
        "///\n",
        "/// ```\n",
        "/// use redis_script_analysis::{LUA_GLOBALS_BY_SERVER, Version};\n",
        "///\n",
        "/// let server = LUA_GLOBALS_BY_SERVER.iter().find(|(name, _)| *name == \"server\").unwrap();\n",
        "/// assert_eq!(server.1.redis, None); // Valkey's name for `redis`\n",
        "/// assert_eq!(server.1.valkey, Some(Version::new(7, 2)));\n",
        "/// ```\n",
        "pub static LUA_GLOBALS_BY_SERVER: &[(&str, Since)] = &[\n",
    ));
    for (global, available) in other_globals {
        let _ = writeln!(out, "    ({global:?}, {}),", since_code(available));
    }
    out.push_str(concat!(
        "];\n\n",
        "/// The members of each table of the Lua sandbox that every server of the table has\n",
        "/// (functions and values alike, such as `redis.LOG_WARNING` and `math.pi`), tables and\n",
        "/// members sorted for binary search; the others are in\n",
        "/// [`LUA_LIBRARY_MEMBERS_BY_SERVER`]. `KEYS` and `ARGV` are left out (they hold each\n",
        "/// call's arguments), and so is `_G`, whose metatable answers names that are not its\n",
        "/// members.\n",
        "///\n",
        "/// ```\n",
        "/// use redis_script_analysis::LUA_LIBRARY_MEMBERS;\n",
        "///\n",
        "/// let cjson = LUA_LIBRARY_MEMBERS\n",
        "///     .binary_search_by_key(&\"cjson\", |(table, _)| *table)\n",
        "///     .map(|index| LUA_LIBRARY_MEMBERS[index].1)\n",
        "///     .unwrap();\n",
        "/// assert!(cjson.binary_search(&\"decode\").is_ok());\n",
        "/// assert!(cjson.binary_search(&\"decod\").is_err());\n",
        "/// ```\n",
        "pub static LUA_LIBRARY_MEMBERS: &[(&str, &[&str])] = &[\n",
    ));
    for (table, table_members) in shared_members {
        let _ = writeln!(out, "    ({table:?}, &[");
        for member in table_members {
            let _ = writeln!(out, "        {member:?},");
        }
        out.push_str("    ]),\n");
    }
    out.push_str(concat!(
        "];\n\n",
        "/// The members of tables of the Lua sandbox that only some servers (or versions) of the\n",
        "/// table have, with since which version each server has them; tables and members sorted.\n",
        "/// A member of a table that not every server has (Valkey's `server`) is here with all\n",
        "/// the table's members.\n",
        "///\n",
        "/// ```\n",
        "/// use redis_script_analysis::{LUA_LIBRARY_MEMBERS_BY_SERVER, Version};\n",
        "///\n",
        "/// let (_, os) = LUA_LIBRARY_MEMBERS_BY_SERVER.iter().find(|(table, _)| *table == \"os\").unwrap();\n",
        "/// let (_, clock) = os.iter().find(|(member, _)| *member == \"clock\").unwrap();\n",
        "/// assert_eq!(clock.redis, Some(Version::new(7, 4)));\n",
        "/// ```\n",
        "pub static LUA_LIBRARY_MEMBERS_BY_SERVER: &[(&str, &[(&str, Since)])] = &[\n",
    ));
    for (table, table_members) in other_members {
        let _ = writeln!(out, "    ({table:?}, &[");
        for (member, available) in table_members {
            let _ = writeln!(out, "        ({member:?}, {}),", since_code(available));
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    Ok(())
}

fn eval(connection: &mut redis::Connection, script: &str) -> Result<Value> {
    redis::cmd("EVAL")
        .arg(script)
        .arg(0)
        .query::<Value>(connection)
        .map_err(|error| format!("EVAL of the sandbox enumeration failed: {error}"))
}

/// The committed data must be what the server on this machine gives, for the target that is
/// its version: otherwise the analysis reports names that exist there, or misses ones that do
/// not.
#[cfg(test)]
mod tests {
    use redis_script_analysis::{
        GENERATED_FROM, Server, Target, Version, sandbox_globals, sandbox_members,
    };
    use throwaway_redis::RedisServer;

    use super::*;

    /// A throwaway server of the harness's binary, the target that is its version, and
    /// whether it is a version the table was generated from (whose sandbox the committed one
    /// must equal; on another version it must be contained in the server's).
    fn connection_to_a_server_of_the_table() -> (RedisServer, redis::Connection, Target, bool) {
        let server = RedisServer::start().expect("start redis-server");
        let mut connection = server.connection().expect("connect to redis-server");
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut connection)
            .expect("INFO server");
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
        };
        // Valkey also reports `redis_version` (7.2.4, the version it was forked from).
        let (server_family, version) = match field("valkey_version:") {
            Some(version) => (Server::Valkey, version),
            None => (
                Server::Redis,
                field("redis_version:").expect("redis_version"),
            ),
        };
        let generated = GENERATED_FROM
            .iter()
            .any(|(family, generated)| *family == server_family && *generated == version);
        let version = Version::parse(version).expect("a MAJOR.MINOR.PATCH version");
        (
            server,
            connection,
            Target::new(server_family, version),
            generated,
        )
    }

    /// `committed` must be `on_server` on a version the table was generated from, and a part
    /// of it elsewhere.
    fn compare(committed: &[String], on_server: &[String], generated: bool, what: &str) {
        let only_committed: Vec<&String> = committed
            .iter()
            .filter(|name| !on_server.contains(name))
            .collect();
        let only_on_server: Vec<&String> = on_server
            .iter()
            .filter(|name| !committed.contains(name))
            .collect();
        if generated {
            assert_eq!(
                (only_committed, only_on_server),
                (vec![], vec![]),
                "{what} (left: committed only, right: on the server only) differs from the \
                 server's sandbox: regenerate it with tools/command-table/regenerate.sh"
            );
        } else {
            assert_eq!(
                only_committed,
                Vec::<&String>::new(),
                "{what}: committed names this server lacks, although the table claims them for \
                 its version"
            );
        }
    }

    #[test]
    fn committed_library_members_are_the_servers() {
        let (_server, mut connection, target, generated) = connection_to_a_server_of_the_table();
        let on_server = library_members(&mut connection).expect("enumerate the sandbox's tables");
        // Every table the target has, with its members there.
        let committed: Vec<(String, Vec<String>)> = sandbox_globals(target)
            .into_iter()
            .filter_map(|global| {
                let members = sandbox_members(global, target)?;
                Some((
                    global.to_owned(),
                    members.iter().map(|member| member.to_string()).collect(),
                ))
            })
            .collect();
        // The names on one side only, so that a failure shows the difference, not two lists.
        let flatten = |tables: &[(String, Vec<String>)]| -> Vec<String> {
            tables
                .iter()
                .flat_map(|(name, members)| {
                    std::iter::once(format!("{name} (table)"))
                        .chain(members.iter().map(move |member| format!("{name}.{member}")))
                })
                .collect()
        };
        compare(
            &flatten(&committed),
            &flatten(&on_server),
            generated,
            &format!("the sandbox's tables on {target}"),
        );
        if generated {
            assert_eq!(committed, on_server);
        }
    }

    #[test]
    fn committed_globals_are_the_servers() {
        let (_server, mut connection, target, generated) = connection_to_a_server_of_the_table();
        let on_server = globals(&mut connection).expect("enumerate the sandbox's globals");
        let committed: Vec<String> = sandbox_globals(target)
            .into_iter()
            .map(str::to_owned)
            .collect();
        compare(
            &committed,
            &on_server,
            generated,
            &format!("the sandbox's globals on {target}"),
        );
        if generated {
            assert_eq!(committed, on_server);
        }
    }

    /// The analysis checks `server.call` as `redis.call`, and takes the members of `server`
    /// for those of `redis`: on a server with `server`, both names hold one table.
    #[test]
    fn aliases_are_the_same_table() {
        let (_server, mut connection, target, _) = connection_to_a_server_of_the_table();
        let globals = globals(&mut connection).expect("enumerate the sandbox's globals");
        check_aliases(&mut connection, &globals).expect("every alias is its table");
        assert_eq!(
            globals.contains(&"server".to_owned()),
            target.server == Server::Valkey
        );
    }

    /// The enumeration itself: the libraries Redis documents are found, with members of every
    /// kind (functions, numbers, strings), and the tables left out on purpose are not.
    #[test]
    fn the_enumeration_finds_the_documented_libraries() {
        let (_server, mut connection, _, _) = connection_to_a_server_of_the_table();
        let tables = library_members(&mut connection).expect("enumerate the sandbox's tables");
        let names: Vec<&str> = tables.iter().map(|(name, _)| name.as_str()).collect();
        for library in [
            "bit", "cjson", "cmsgpack", "math", "redis", "string", "struct", "table",
        ] {
            assert!(names.contains(&library), "{library} missing from {names:?}");
        }
        for left_out in ["KEYS", "ARGV", "_G"] {
            assert!(!names.contains(&left_out), "{left_out} in {names:?}");
        }
        let members = |library: &str| {
            tables
                .iter()
                .find(|(name, _)| name == library)
                .map(|(_, members)| members.clone())
                .unwrap_or_default()
        };
        assert!(members("redis").contains(&"LOG_WARNING".to_owned()));
        assert!(members("redis").contains(&"REDIS_VERSION".to_owned()));
        assert!(members("math").contains(&"pi".to_owned()));
        assert!(members("math").contains(&"huge".to_owned()));
        assert!(members("cjson").contains(&"decode".to_owned()));
    }

    /// The dating rules, on runs as the generator sees them.
    #[test]
    fn names_are_dated_like_commands() {
        let runs = |present: &[bool]| -> Vec<(FullVersion, bool)> {
            [(8, 1, 8), (9, 0, 0), (9, 1, 2)]
                .into_iter()
                .zip(present.iter().copied())
                .collect()
        };
        // Redis 7.0 has it: Valkey since its first release.
        assert_eq!(
            since(Family::Valkey, &runs(&[true, true, true]), "pcall", true),
            Ok(Some((7, 2, 0)))
        );
        // Only Valkey, undated: the oldest version run, never earlier.
        assert_eq!(
            since(Family::Valkey, &runs(&[true, true, true]), "x", false),
            Ok(Some((8, 1, 8)))
        );
        assert_eq!(
            since(Family::Valkey, &runs(&[false, true, true]), "x", false),
            Ok(Some((9, 0, 0)))
        );
        // Dated from the source history.
        assert_eq!(
            since(
                Family::Valkey,
                &runs(&[true, true, true]),
                "os.clock",
                false
            ),
            Ok(Some((8, 0, 0)))
        );
        // A date the runs contradict, and a removed name, are errors.
        assert!(since(Family::Valkey, &runs(&[false, true, true]), "os", false).is_err());
        assert!(since(Family::Valkey, &runs(&[true, false, true]), "x", false).is_err());
        assert_eq!(
            since(Family::Valkey, &runs(&[false, false, false]), "x", false),
            Ok(None)
        );
    }
}
