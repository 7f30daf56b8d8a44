//! What a server's Lua sandbox provides: its globals and the members of its tables, read by
//! running Lua through `EVAL`.

use redis::Value;

use crate::{Result, array, text};

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

fn eval(connection: &mut redis::Connection, script: &str) -> Result<Value> {
    redis::cmd("EVAL")
        .arg(script)
        .arg(0)
        .query::<Value>(connection)
        .map_err(|error| format!("EVAL of the sandbox enumeration failed: {error}"))
}

/// The committed data must be what the server on this machine gives: otherwise the analysis
/// reports members that exist, or misses ones that do not.
#[cfg(test)]
mod tests {
    use redis_script_analysis::{LUA_GLOBALS, LUA_LIBRARY_MEMBERS, REDIS_VERSION};
    use throwaway_redis::RedisServer;

    use super::*;

    /// A throwaway server of the harness's binary, and whether it is the table's baseline (the
    /// Redis [`REDIS_VERSION`], whose sandbox the committed one must equal; on every other
    /// server of the table it must be contained in the server's).
    fn connection_to_a_server_of_the_table() -> (RedisServer, redis::Connection, bool) {
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
        let baseline =
            field("valkey_version:").is_none() && field("redis_version:") == Some(REDIS_VERSION);
        (server, connection, baseline)
    }

    /// `committed` must be `on_server` on the baseline, and a part of it elsewhere.
    fn compare(committed: &[String], on_server: &[String], baseline: bool, what: &str) {
        let only_committed: Vec<&String> = committed
            .iter()
            .filter(|name| !on_server.contains(name))
            .collect();
        let only_on_server: Vec<&String> = on_server
            .iter()
            .filter(|name| !committed.contains(name))
            .collect();
        if baseline {
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
                "{what}: committed names this server lacks, although the table has only what \
                 every server of the table has"
            );
        }
    }

    #[test]
    fn committed_library_members_are_the_servers() {
        let (_server, mut connection, baseline) = connection_to_a_server_of_the_table();
        let on_server = library_members(&mut connection).expect("enumerate the sandbox's tables");
        let committed: Vec<(String, Vec<String>)> = LUA_LIBRARY_MEMBERS
            .iter()
            .map(|(name, members)| {
                let members = members.iter().map(|member| member.to_string()).collect();
                (name.to_string(), members)
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
            baseline,
            "LUA_LIBRARY_MEMBERS",
        );
        if baseline {
            // Same names: the order, which binary search relies on, must be the same too.
            assert_eq!(committed, on_server);
        }
    }

    #[test]
    fn committed_globals_are_the_servers() {
        let (_server, mut connection, baseline) = connection_to_a_server_of_the_table();
        let on_server = globals(&mut connection).expect("enumerate the sandbox's globals");
        let committed: Vec<String> = LUA_GLOBALS.iter().map(|name| name.to_string()).collect();
        compare(&committed, &on_server, baseline, "LUA_GLOBALS");
        if baseline {
            assert_eq!(committed, on_server);
        }
    }

    /// The enumeration itself: the libraries Redis documents are found, with members of every
    /// kind (functions, numbers, strings), and the tables left out on purpose are not.
    #[test]
    fn the_enumeration_finds_the_documented_libraries() {
        let (_server, mut connection, _) = connection_to_a_server_of_the_table();
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
}
