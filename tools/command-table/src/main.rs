//! Generates `analysis/src/redis_calls/command_table.rs`, the command table that
//! `redis-script-analysis` checks `redis.call` against, from a real Redis server.
//!
//! ```text
//! cargo run -p redis-script-command-table [-- OUTPUT.rs]
//! ```
//!
//! It starts a throwaway `redis-server` (the binary named by `REDIS_SERVER`, or the one on
//! `PATH`; Redis 7 or newer), reads `COMMAND` (every command with its subcommands: arity,
//! flags, key specifications), `COMMAND DOCS` (summaries and argument lists, rendered as syntax
//! lines), the globals of the server's Lua sandbox and the members of its tables (`redis`,
//! `cjson`, `string`, ...: every table-valued global, found by a Lua script run with `EVAL`),
//! and writes them as plain Rust data.
//! The analysis crate thus never talks to Redis: to support a newer Redis, run this against it
//! and commit the regenerated file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use redis::Value;
use throwaway_redis::RedisServer;

mod sandbox;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    match run() {
        Ok(path) => {
            eprintln!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("command-table: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<PathBuf> {
    let output = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../analysis/src/redis_calls/command_table.rs"),
    };
    let server =
        RedisServer::start().map_err(|error| format!("cannot start redis-server: {error}"))?;
    let mut connection = server
        .connection()
        .map_err(|error| format!("cannot connect: {error}"))?;
    let query = |connection: &mut redis::Connection, command: &mut redis::Cmd| {
        command
            .query::<Value>(connection)
            .map_err(|error| format!("{error}"))
    };

    let info = query(&mut connection, redis::cmd("INFO").arg("server"))?;
    let version = text(&info)?
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .map(|version| version.trim().to_owned())
        .ok_or("INFO server has no redis_version")?;

    let docs = query(&mut connection, redis::cmd("COMMAND").arg("DOCS"))?;
    let docs = parse_docs(&docs)?;
    let commands = query(&mut connection, &mut redis::cmd("COMMAND"))?;
    let mut commands = array(&commands)?
        .iter()
        .map(|entry| parse_command(entry, &docs))
        .collect::<Result<Vec<_>>>()?;
    commands.sort_by(|a, b| a.name.cmp(&b.name));

    let globals = sandbox::globals(&mut connection)?;
    let members = sandbox::library_members(&mut connection)?;

    let source = render(&version, &commands, &globals, &members);
    std::fs::write(&output, source)
        .map_err(|error| format!("cannot write {}: {error}", output.display()))?;
    Ok(output)
}

struct Command {
    name: String,
    arity: i64,
    flags: Vec<String>,
    first_key: i64,
    last_key: i64,
    step: i64,
    key_specs: Vec<KeySpec>,
    subcommands: Vec<Command>,
    summary: String,
    syntax: String,
}

struct KeySpec {
    flags: Vec<String>,
    begin_search: String,
    find_keys: String,
}

struct Doc {
    summary: String,
    syntax: String,
    subcommands: BTreeMap<String, Doc>,
}

fn parse_command(entry: &Value, docs: &BTreeMap<String, Doc>) -> Result<Command> {
    let fields = array(entry)?;
    let field = |index: usize| {
        fields
            .get(index)
            .ok_or_else(|| format!("COMMAND entry has no field {index}: {entry:?}"))
    };
    let name = text(field(0)?)?.to_ascii_lowercase();
    let doc = match name.split_once('|') {
        Some((container, sub)) => docs
            .get(container)
            .and_then(|doc| doc.subcommands.get(&format!("{container}|{sub}"))),
        None => docs.get(&name),
    };
    let flags = array(field(2)?)?
        .iter()
        .map(text)
        .collect::<Result<Vec<_>>>()?;
    let key_specs = match fields.get(8) {
        Some(specs) => array(specs)?
            .iter()
            .map(parse_key_spec)
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let mut subcommands = match fields.get(9) {
        Some(subcommands) => array(subcommands)?
            .iter()
            .map(|sub| parse_command(sub, docs))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    subcommands.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Command {
        arity: int(field(1)?)?,
        flags,
        first_key: int(field(3)?)?,
        last_key: int(field(4)?)?,
        step: int(field(5)?)?,
        key_specs,
        subcommands,
        summary: doc.map(|doc| doc.summary.clone()).unwrap_or_default(),
        syntax: doc
            .map(|doc| doc.syntax.clone())
            .unwrap_or_else(|| name.replace('|', " ").to_ascii_uppercase()),
        name,
    })
}

fn parse_key_spec(spec: &Value) -> Result<KeySpec> {
    let spec = map(spec)?;
    let flags = match spec.get("flags") {
        Some(flags) => array(flags)?.iter().map(text).collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let begin = map(spec
        .get("begin_search")
        .ok_or("key spec without begin_search")?)?;
    let begin_spec = map(begin.get("spec").ok_or("begin_search without spec")?)?;
    let begin_search = match text(begin.get("type").ok_or("begin_search without type")?)?.as_str() {
        "index" => format!("BeginSearch::Index({})", int(get(&begin_spec, "index")?)?),
        "keyword" => format!(
            "BeginSearch::Keyword {{ keyword: {:?}, start_from: {} }}",
            text(get(&begin_spec, "keyword")?)?,
            int(get(&begin_spec, "startfrom")?)?
        ),
        "unknown" => "BeginSearch::Unknown".to_owned(),
        other => return Err(format!("unknown begin_search type {other}")),
    };
    let find = map(spec.get("find_keys").ok_or("key spec without find_keys")?)?;
    let find_spec = map(find.get("spec").ok_or("find_keys without spec")?)?;
    let find_keys = match text(find.get("type").ok_or("find_keys without type")?)?.as_str() {
        "range" => format!(
            "FindKeys::Range {{ last_key: {}, key_step: {}, limit: {} }}",
            int(get(&find_spec, "lastkey")?)?,
            int(get(&find_spec, "keystep")?)?,
            int(get(&find_spec, "limit")?)?
        ),
        "keynum" => format!(
            "FindKeys::KeyNum {{ key_num_index: {}, first_key: {}, key_step: {} }}",
            int(get(&find_spec, "keynumidx")?)?,
            int(get(&find_spec, "firstkey")?)?,
            int(get(&find_spec, "keystep")?)?
        ),
        "unknown" => "FindKeys::Unknown".to_owned(),
        other => return Err(format!("unknown find_keys type {other}")),
    };
    Ok(KeySpec {
        flags,
        begin_search,
        find_keys,
    })
}

fn parse_docs(docs: &Value) -> Result<BTreeMap<String, Doc>> {
    let mut parsed = BTreeMap::new();
    for (name, doc) in pairs(docs)? {
        let name = text(name)?.to_ascii_lowercase();
        let doc = parse_doc(&name, doc)?;
        parsed.insert(name, doc);
    }
    Ok(parsed)
}

fn parse_doc(name: &str, doc: &Value) -> Result<Doc> {
    let doc = map(doc)?;
    let summary = doc
        .get("summary")
        .map(|value| text(value))
        .transpose()?
        .unwrap_or_default();
    let mut syntax = name.replace('|', " ").to_ascii_uppercase();
    if let Some(arguments) = doc.get("arguments") {
        for argument in array(arguments)? {
            syntax.push(' ');
            syntax.push_str(&render_argument(argument)?);
        }
    }
    let subcommands = match doc.get("subcommands") {
        Some(subcommands) => parse_docs(subcommands)?,
        None => BTreeMap::new(),
    };
    Ok(Doc {
        summary,
        syntax,
        subcommands,
    })
}

/// One argument of `COMMAND DOCS`, in the notation of the Redis documentation.
fn render_argument(argument: &Value) -> Result<String> {
    let argument = map(argument)?;
    let kind = text(get(&argument, "type")?)?;
    let name = match argument.get("display_text") {
        Some(display) => text(display)?,
        None => text(get(&argument, "name")?)?,
    };
    let token = argument.get("token").map(|value| text(value)).transpose()?;
    let flags = match argument.get("flags") {
        Some(flags) => array(flags)?.iter().map(text).collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let has = |flag: &str| flags.iter().any(|f| f == flag);
    let children = match argument.get("arguments") {
        Some(children) => array(children)?
            .iter()
            .map(render_argument)
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let body = match kind.as_str() {
        "pure-token" => match token.clone() {
            Some(token) if token.is_empty() => "\"\"".to_owned(),
            Some(token) => token,
            None => name,
        },
        "oneof" => {
            let joined = children.join(" | ");
            if has("optional") || children.len() < 2 {
                joined
            } else {
                format!("<{joined}>")
            }
        }
        "block" => children.join(" "),
        _ => name,
    };
    let with_token = match (&token, kind.as_str()) {
        (Some(token), kind) if kind != "pure-token" => format!("{token} {body}"),
        _ => body.clone(),
    };
    let rendered = if has("multiple") {
        let repeated = if has("multiple_token") {
            with_token.clone()
        } else {
            body
        };
        format!("{with_token} [{repeated} ...]")
    } else {
        with_token
    };
    Ok(if has("optional") {
        format!("[{rendered}]")
    } else {
        rendered
    })
}

fn render(
    version: &str,
    commands: &[Command],
    globals: &[String],
    members: &[(String, Vec<String>)],
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "//! The Redis command table: every command of redis-server {version} with its subcommands,\n\
         //! arity, flags, key specifications, summary and syntax, and the globals of its Lua sandbox\n\
         //! with the members of its tables.\n\
         //!\n\
         //! GENERATED by `cargo run -p redis-script-command-table` (tools/command-table) from a real\n\
         //! server's `COMMAND`, `COMMAND DOCS` and `_G` (walked by a script run with `EVAL`). Do not\n\
         //! edit: to support a newer Redis, put its `redis-server` on PATH (or name it in\n\
         //! REDIS_SERVER), rerun the generator and commit the file.\n\
         \n\
         use super::commands::{{BeginSearch, Command, CommandFlags as F, FindKeys, KeySpec, KeySpecFlags as K}};\n\
         \n\
         /// The version of the server the table was generated from.\n\
         ///\n\
         /// ```\n\
         /// let version = redis_script_analysis::REDIS_VERSION;\n\
         /// assert!(version.split('.').all(|part| part.parse::<u32>().is_ok()));\n\
         /// ```\n\
         pub const REDIS_VERSION: &str = {version:?};\n\
         \n\
         /// Every command, sorted by name.\n\
         ///\n\
         /// ```\n\
         /// use redis_script_analysis::COMMANDS;\n\
         ///\n\
         /// let get = COMMANDS.iter().find(|command| command.name == \"get\").unwrap();\n\
         /// assert_eq!(get.arity, 2);\n\
         /// assert!(COMMANDS.windows(2).all(|pair| pair[0].name < pair[1].name));\n\
         /// ```\n\
         pub static COMMANDS: &[Command] = &[\n"
    );
    for command in commands {
        render_command(&mut out, command, 1);
    }
    out.push_str(concat!(
        "];\n\n",
        "/// The globals of the server's Lua sandbox, sorted (internal names starting with `__` left out).\n",
        "///\n",
        "/// ```\n",
        "/// use redis_script_analysis::LUA_GLOBALS;\n",
        "///\n",
        "/// assert!(LUA_GLOBALS.binary_search(&\"redis\").is_ok());\n",
        "/// assert!(LUA_GLOBALS.binary_search(&\"io\").is_err()); // no file access in scripts\n",
        "/// ```\n",
        "pub static LUA_GLOBALS: &[&str] = &[\n",
    ));
    for global in globals {
        let _ = writeln!(out, "    {global:?},");
    }
    out.push_str(concat!(
        "];\n\n",
        "/// The members of each table of the server's Lua sandbox (functions and values alike, such as\n",
        "/// `redis.LOG_WARNING` and `math.pi`), tables and members sorted for binary search. `KEYS`\n",
        "/// and `ARGV` are left out (they hold each call's arguments), and so is `_G`, whose\n",
        "/// metatable answers names that are not its members.\n",
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
    for (table, table_members) in members {
        let _ = writeln!(out, "    ({table:?}, &[");
        for member in table_members {
            let _ = writeln!(out, "        {member:?},");
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    out
}

fn render_command(out: &mut String, command: &Command, depth: usize) {
    let indent = "    ".repeat(depth);
    let _ = writeln!(out, "{indent}Command {{");
    let _ = writeln!(out, "{indent}    name: {:?},", command.name);
    let _ = writeln!(out, "{indent}    arity: {},", command.arity);
    let _ = writeln!(out, "{indent}    flags: {},", command_flags(&command.flags));
    let _ = writeln!(
        out,
        "{indent}    first_key: {}, last_key: {}, step: {},",
        command.first_key, command.last_key, command.step
    );
    if command.key_specs.is_empty() {
        let _ = writeln!(out, "{indent}    key_specs: &[],");
    } else {
        let _ = writeln!(out, "{indent}    key_specs: &[");
        for spec in &command.key_specs {
            let _ = writeln!(
                out,
                "{indent}        KeySpec {{ flags: {}, begin_search: {}, find_keys: {} }},",
                spec_flags(&spec.flags),
                spec.begin_search,
                spec.find_keys
            );
        }
        let _ = writeln!(out, "{indent}    ],");
    }
    if command.subcommands.is_empty() {
        let _ = writeln!(out, "{indent}    subcommands: &[],");
    } else {
        let _ = writeln!(out, "{indent}    subcommands: &[");
        for sub in &command.subcommands {
            render_command(out, sub, depth + 2);
        }
        let _ = writeln!(out, "{indent}    ],");
    }
    let _ = writeln!(out, "{indent}    summary: {:?},", command.summary);
    let _ = writeln!(out, "{indent}    syntax: {:?},", command.syntax);
    let _ = writeln!(out, "{indent}}},");
}

/// `F::WRITE.union(F::DENYOOM)`; the flag names must be known to `CommandFlags`.
fn command_flags(flags: &[String]) -> String {
    chain("F", flags.iter().map(|flag| flag.to_ascii_uppercase()))
}

fn spec_flags(flags: &[String]) -> String {
    chain("K", flags.iter().map(|flag| flag.to_ascii_uppercase()))
}

fn chain(kind: &str, names: impl Iterator<Item = String>) -> String {
    let mut out = String::new();
    for (index, name) in names.enumerate() {
        if index == 0 {
            let _ = write!(out, "{kind}::{name}");
        } else {
            let _ = write!(out, ".union({kind}::{name})");
        }
    }
    if out.is_empty() {
        format!("{kind}::NONE")
    } else {
        out
    }
}

// --- Reading RESP2 / RESP3 replies -------------------------------------------------------

fn text(value: &Value) -> Result<String> {
    match value {
        Value::BulkString(bytes) => {
            String::from_utf8(bytes.clone()).map_err(|error| format!("not UTF-8: {error}"))
        }
        Value::SimpleString(text) => Ok(text.clone()),
        Value::VerbatimString { text, .. } => Ok(text.clone()),
        Value::Okay => Ok("OK".to_owned()),
        Value::Int(number) => Ok(number.to_string()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn int(value: &Value) -> Result<i64> {
    match value {
        Value::Int(number) => Ok(*number),
        other => text(other)?
            .parse()
            .map_err(|error| format!("expected an integer, got {other:?}: {error}")),
    }
}

fn array(value: &Value) -> Result<&[Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(&[]),
        other => Err(format!("expected an array, got {other:?}")),
    }
}

/// A RESP3 map, or a RESP2 array of alternating keys and values.
fn pairs(value: &Value) -> Result<Vec<(&Value, &Value)>> {
    match value {
        Value::Map(entries) => Ok(entries.iter().map(|(key, value)| (key, value)).collect()),
        Value::Array(items) if items.len() % 2 == 0 => Ok(items
            .chunks_exact(2)
            .map(|pair| (&pair[0], &pair[1]))
            .collect()),
        other => Err(format!("expected a map, got {other:?}")),
    }
}

fn map(value: &Value) -> Result<BTreeMap<String, &Value>> {
    pairs(value)?
        .into_iter()
        .map(|(key, value)| Ok((text(key)?, value)))
        .collect()
}

fn get<'a>(map: &BTreeMap<String, &'a Value>, key: &str) -> Result<&'a Value> {
    map.get(key)
        .copied()
        .ok_or_else(|| format!("missing field `{key}`"))
}
