//! Generates `analysis/src/redis_calls/command_table.rs`, the command table that
//! `redis-script-analysis` checks `redis.call` against, from real Redis and Valkey servers.
//!
//! ```text
//! cargo run -p redis-script-command-table -- [--output OUTPUT.rs] SERVER-BINARY...
//! tools/command-table/regenerate.sh   # installs the pinned servers, then runs the above
//! ```
//!
//! It starts each binary as a throwaway server (with no binary given: `redis-server` from
//! `PATH`), reads `COMMAND` (every command with its subcommands: arity, flags, key
//! specifications), `COMMAND DOCS` (summaries, argument lists rendered as syntax lines, the
//! version each command appeared in and its history), the globals of the server's Lua sandbox
//! and the members of its tables, and merges them into one table:
//!
//! - one entry per command, defined as the newest Redis run defines it (or the newest Valkey,
//!   for commands Redis lacks), with since which version each server family has it: the
//!   `since` of the newest server of that family that has it, never earlier than the oldest
//!   version run of the family if that one lacks it, so a table never claims a command for a
//!   version that did not have it;
//! - a variant wherever a version run defines it otherwise (another arity, other flags or key
//!   specifications), applying up to the next version run that changed it, or, when that
//!   version's `COMMAND DOCS` history dates the change, up to that version;
//! - the sandbox's globals and the members of its tables: those that every supported version of
//!   both families has, and the others with since which version each family has them (dated
//!   like commands: the first version run that has them, or, where the servers' source history
//!   says, [`sandbox::SANDBOX_SINCE`]).
//!
//! The analysis crate thus never talks to a server: to support a newer one, add its binary and
//! commit the regenerated file.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
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

/// Commands that a server reports without a `since` (module commands: Redis 8 builds vector
/// sets in as a module), with the version that introduced them, from its release notes.
const SINCE_NOT_REPORTED: &[(&str, &str, &str)] = &[
    ("redis", "vadd", "8.0.0"),
    ("redis", "vcard", "8.0.0"),
    ("redis", "vdim", "8.0.0"),
    ("redis", "vemb", "8.0.0"),
    ("redis", "vgetattr", "8.0.0"),
    ("redis", "vinfo", "8.0.0"),
    ("redis", "vismember", "8.0.0"),
    ("redis", "vlinks", "8.0.0"),
    ("redis", "vrandmember", "8.0.0"),
    ("redis", "vrem", "8.0.0"),
    ("redis", "vsetattr", "8.0.0"),
    ("redis", "vsim", "8.0.0"),
];

fn run() -> Result<PathBuf> {
    let mut output = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../analysis/src/redis_calls/command_table.rs");
    let mut binaries: Vec<OsString> = Vec::new();
    let mut arguments = std::env::args_os().skip(1);
    while let Some(argument) = arguments.next() {
        if argument == "--output" {
            output = PathBuf::from(arguments.next().ok_or("--output needs a path")?);
        } else {
            binaries.push(argument);
        }
    }
    if binaries.is_empty() {
        binaries.push(OsString::from("redis-server"));
    }
    let mut observations = binaries.iter().map(observe).collect::<Result<Vec<_>>>()?;
    observations.sort_by_key(|observation| (observation.family, observation.version));
    let source = render(&observations)?;
    std::fs::write(&output, source)
        .map_err(|error| format!("cannot write {}: {error}", output.display()))?;
    Ok(output)
}

/// A server family, as the generated code names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Redis,
    Valkey,
}

impl Family {
    fn code(self) -> &'static str {
        match self {
            Family::Redis => "Redis",
            Family::Valkey => "Valkey",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Redis => "redis",
            Family::Valkey => "valkey",
        }
    }
}

/// `major.minor.patch`.
type FullVersion = (u16, u16, u16);

fn parse_version(text: &str) -> Option<FullVersion> {
    let mut parts = text.trim().split('.').map(|part| part.parse::<u16>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// What one server says about itself.
struct Observation {
    family: Family,
    version: FullVersion,
    version_text: String,
    /// Every command and subcommand by full name (`object|encoding`).
    commands: BTreeMap<String, Command>,
    /// `COMMAND DOCS` of every command and subcommand by full name.
    docs: BTreeMap<String, Doc>,
    globals: Vec<String>,
    members: Vec<(String, Vec<String>)>,
}

impl Observation {
    fn label(&self) -> String {
        format!("{}-{}", self.family.name(), self.version_text)
    }
}

fn observe(binary: &OsString) -> Result<Observation> {
    let server = RedisServer::start_program(binary, &[]).map_err(|error| {
        format!(
            "cannot start {}: {error}",
            std::path::Path::new(binary).display()
        )
    })?;
    let mut connection = server
        .connection()
        .map_err(|error| format!("cannot connect: {error}"))?;
    let query = |connection: &mut redis::Connection, command: &mut redis::Cmd| {
        command
            .query::<Value>(connection)
            .map_err(|error| format!("{error}"))
    };

    let info = query(&mut connection, redis::cmd("INFO").arg("server"))?;
    let info = text(&info)?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim().to_owned())
    };
    // Valkey also reports `redis_version` (7.2.4, the version it was forked from).
    let (family, version_text) = match field("valkey_version:") {
        Some(version) => (Family::Valkey, version),
        None => (
            Family::Redis,
            field("redis_version:").ok_or("INFO server has no redis_version")?,
        ),
    };
    let version = parse_version(&version_text)
        .ok_or_else(|| format!("cannot read the server version {version_text:?}"))?;

    let docs = query(&mut connection, redis::cmd("COMMAND").arg("DOCS"))?;
    let docs = parse_docs(&docs)?;
    let mut flat_docs = BTreeMap::new();
    for (name, doc) in docs {
        for (sub, sub_doc) in doc.subcommands.clone() {
            flat_docs.insert(sub, sub_doc);
        }
        flat_docs.insert(name, doc);
    }
    let listed = query(&mut connection, &mut redis::cmd("COMMAND"))?;
    let mut commands = BTreeMap::new();
    for entry in array(&listed)? {
        let command = parse_command(entry, &flat_docs)?;
        for sub in &command.subcommands {
            commands.insert(sub.name.clone(), sub.clone());
        }
        commands.insert(command.name.clone(), command);
    }
    let globals = sandbox::globals(&mut connection)?;
    let members = sandbox::library_members(&mut connection)?;
    sandbox::check_aliases(&mut connection, &globals)?;
    eprintln!(
        "{} {version_text}: {} commands and subcommands",
        family.code(),
        commands.len()
    );
    Ok(Observation {
        family,
        version,
        version_text,
        commands,
        docs: flat_docs,
        globals,
        members,
    })
}

#[derive(Clone)]
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

impl Command {
    /// What a variant may differ in.
    fn definition(&self) -> (i64, Vec<String>, Vec<String>) {
        let mut flags = self.flags.clone();
        flags.sort();
        (self.arity, flags, render_specs(&self.key_specs))
    }
}

#[derive(Clone, PartialEq)]
struct KeySpec {
    flags: Vec<String>,
    begin_search: String,
    find_keys: String,
}

#[derive(Clone)]
struct Doc {
    summary: String,
    syntax: String,
    since: Option<String>,
    /// The versions of the `history` entries.
    history: Vec<String>,
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
    let doc = docs.get(&name);
    let mut flags = array(field(2)?)?
        .iter()
        .map(text)
        .collect::<Result<Vec<_>>>()?;
    flags.sort();
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
    let since = doc.get("since").map(|value| text(value)).transpose()?;
    let history = match doc.get("history") {
        Some(history) => array(history)?
            .iter()
            .filter_map(|entry| array(entry).ok()?.first().map(text))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    Ok(Doc {
        summary,
        syntax,
        since,
        history,
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

/// `major.minor` as the generated code writes it.
fn version_code((major, minor, _): FullVersion) -> String {
    format!("V::new({major}, {minor})")
}

/// The `since` of a command on one family: the newest server's `COMMAND DOCS` (or
/// [`SINCE_NOT_REPORTED`]), but never at or before a version run that lacks the command.
fn since(family: &[&Observation], name: &str) -> Result<Option<FullVersion>> {
    let Some(first) = family
        .iter()
        .position(|observation| observation.commands.contains_key(name))
    else {
        return Ok(None);
    };
    if let Some(gone) = family[first..]
        .iter()
        .find(|observation| !observation.commands.contains_key(name))
    {
        return Err(format!(
            "`{name}` is missing from {} but an older server has it: the table has no form for \
             removed commands yet",
            gone.label()
        ));
    }
    let newest = family[family.len() - 1];
    let reported = newest
        .docs
        .get(name)
        .and_then(|doc| doc.since.as_deref())
        .or_else(|| {
            SINCE_NOT_REPORTED
                .iter()
                .find(|(server, command, _)| *server == newest.family.name() && *command == name)
                .map(|(_, _, since)| *since)
        })
        .and_then(parse_version);
    let first_with = family[first].version;
    Ok(Some(match (first, reported) {
        // The oldest version run has it: the reported version is all there is to go by.
        (0, Some(reported)) => reported,
        (0, None) => first_with,
        (_, Some(reported))
            if (reported.0, reported.1) > {
                let before = family[first - 1].version;
                (before.0, before.1)
            } =>
        {
            reported
        }
        // Missing from a version run that the reported `since` claims has it (or nothing
        // reported): the first version run that has it.
        _ => first_with,
    }))
}

/// Where one family's versions define `name` otherwise than `base`: (from, until, command).
fn variants<'o>(
    family: &[&'o Observation],
    name: &str,
    base: &Command,
) -> Vec<(Option<FullVersion>, Option<FullVersion>, &'o Command)> {
    let present: Vec<(&Observation, &Command)> = family
        .iter()
        .filter_map(|observation| Some((*observation, observation.commands.get(name)?)))
        .collect();
    // Runs of consecutive versions with one definition.
    let mut segments: Vec<(Option<FullVersion>, &Command)> = Vec::new();
    for (index, (observation, command)) in present.iter().enumerate() {
        match segments.last() {
            Some((_, last)) if last.definition() == command.definition() => {}
            _ => {
                let from = if index == 0 {
                    None // every older version as well
                } else {
                    let before = present[index - 1].0.version;
                    // The newer server's history dates the change, if it says.
                    let dated = observation
                        .docs
                        .get(name)
                        .into_iter()
                        .flat_map(|doc| doc.history.iter())
                        .filter_map(|version| parse_version(version))
                        .filter(|version| {
                            (version.0, version.1) > (before.0, before.1)
                                && *version <= observation.version
                        })
                        .max();
                    Some(dated.unwrap_or(observation.version))
                };
                segments.push((from, command));
            }
        }
    }
    let mut found = Vec::new();
    for (index, (from, command)) in segments.iter().enumerate() {
        if command.definition() != base.definition() {
            let until = segments.get(index + 1).and_then(|(from, _)| *from);
            found.push((*from, until, *command));
        }
    }
    found
}

/// A command's `since` and `variants`, rendered.
struct Availability {
    since: String,
    variants: Vec<String>,
}

fn render(observations: &[Observation]) -> Result<String> {
    let family = |family: Family| -> Vec<&Observation> {
        observations
            .iter()
            .filter(|observation| observation.family == family)
            .collect()
    };
    let redis = family(Family::Redis);
    let valkey = family(Family::Valkey);
    let baseline = redis
        .first()
        .ok_or("run at least one Redis server: the oldest supported Redis is the baseline")?;
    let names: BTreeSet<&String> = observations
        .iter()
        .flat_map(|observation| observation.commands.keys())
        .collect();

    // Availability and variants of each entry, by full name.
    let mut entries: BTreeMap<String, Availability> = BTreeMap::new();
    for name in &names {
        let base = redis
            .iter()
            .rev()
            .chain(valkey.iter().rev())
            .find_map(|observation| observation.commands.get(*name))
            .ok_or_else(|| format!("no server has {name}"))?;
        let since_redis = since(&redis, name)?;
        let since_valkey = since(&valkey, name)?;
        let option = |since: Option<FullVersion>| {
            since.map_or_else(
                || "None".to_owned(),
                |v| format!("Some({})", version_code(v)),
            )
        };
        let since = format!(
            "since: Since {{ redis: {}, valkey: {} }},",
            option(since_redis),
            option(since_valkey)
        );
        let mut variant_code = Vec::new();
        for (family_name, family) in [("Redis", &redis), ("Valkey", &valkey)] {
            for (from, until, command) in variants(family, name, base) {
                variant_code.push(format!(
                    "Variant {{ server: {family_name}, from: {}, until: {}, arity: {}, flags: {}, key_specs: &[{}] }},",
                    from.map_or_else(|| "V::new(0, 0)".to_owned(), version_code),
                    until.map_or_else(|| "None".to_owned(), |v| format!("Some({})", version_code(v))),
                    command.arity,
                    command_flags(&command.flags),
                    render_specs(&command.key_specs).join(", "),
                ));
            }
        }
        entries.insert(
            (*name).clone(),
            Availability {
                since,
                variants: variant_code,
            },
        );
    }

    let mut out = String::new();
    let sources: Vec<String> = observations.iter().map(Observation::label).collect();
    let _ = write!(
        out,
        "//! The command table of {}: every command with its subcommands,\n\
         //! arity, flags, key specifications, summary, syntax, and since which version each\n\
         //! server has it; the globals of the Lua sandbox and the members of its tables, with\n\
         //! since which version each server has those that not every server has.\n\
         //!\n\
         //! GENERATED by `tools/command-table/regenerate.sh` (tools/command-table) from the real\n\
         //! servers' `COMMAND`, `COMMAND DOCS` and `_G` (walked by a script run with `EVAL`). Do\n\
         //! not edit: to support another server, add it there, rerun it and commit the file.\n\
         \n\
         use super::commands::{{BeginSearch, Command, CommandFlags as F, FindKeys, KeySpec, KeySpecFlags as K, Since, Variant}};\n\
         use crate::Server::{{self, Redis, Valkey}};\n\
         use crate::Version as V;\n\
         \n\
         /// The version of the oldest Redis the table was generated from, whose sandbox is the\n\
         /// baseline.\n\
         ///\n\
         /// ```\n\
         /// let version = redis_script_analysis::REDIS_VERSION;\n\
         /// assert!(version.split('.').all(|part| part.parse::<u32>().is_ok()));\n\
         /// ```\n\
         pub const REDIS_VERSION: &str = {:?};\n\
         \n\
         /// The servers the table was generated from, oldest first per family.\n\
         ///\n\
         /// ```\n\
         /// use redis_script_analysis::{{GENERATED_FROM, Server}};\n\
         ///\n\
         /// assert!(GENERATED_FROM.iter().any(|(server, _)| *server == Server::Valkey));\n\
         /// ```\n\
         pub static GENERATED_FROM: &[(Server, &str)] = &[\n",
        sources.join(", "),
        baseline.version_text,
    );
    for observation in observations {
        let _ = writeln!(
            out,
            "    ({}, {:?}),",
            observation.family.code(),
            observation.version_text
        );
    }
    out.push_str(
        "];\n\n\
         /// Every command, sorted by name.\n\
         ///\n\
         /// ```\n\
         /// use redis_script_analysis::COMMANDS;\n\
         ///\n\
         /// let get = COMMANDS.iter().find(|command| command.name == \"get\").unwrap();\n\
         /// assert_eq!(get.arity, 2);\n\
         /// assert!(COMMANDS.windows(2).all(|pair| pair[0].name < pair[1].name));\n\
         /// ```\n\
         pub static COMMANDS: &[Command] = &[\n",
    );
    let base_of = |name: &str| -> Option<&Command> {
        redis
            .iter()
            .rev()
            .chain(valkey.iter().rev())
            .find_map(|observation| observation.commands.get(name))
    };
    for name in names.iter().filter(|name| !name.contains('|')) {
        let Some(command) = base_of(name) else {
            continue;
        };
        let subcommands: Vec<&Command> = names
            .iter()
            .filter(|sub| {
                sub.split_once('|')
                    .is_some_and(|(container, _)| container == name.as_str())
            })
            .filter_map(|sub| base_of(sub))
            .collect();
        render_command(&mut out, command, &subcommands, &entries, 1);
    }

    out.push_str("];\n\n");
    sandbox::render(&mut out, &redis, &valkey)?;
    Ok(out)
}

fn render_specs(specs: &[KeySpec]) -> Vec<String> {
    specs
        .iter()
        .map(|spec| {
            format!(
                "KeySpec {{ flags: {}, begin_search: {}, find_keys: {} }}",
                spec_flags(&spec.flags),
                spec.begin_search,
                spec.find_keys
            )
        })
        .collect()
}

fn render_command(
    out: &mut String,
    command: &Command,
    subcommands: &[&Command],
    entries: &BTreeMap<String, Availability>,
    depth: usize,
) {
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
    let specs = render_specs(&command.key_specs);
    if specs.is_empty() {
        let _ = writeln!(out, "{indent}    key_specs: &[],");
    } else {
        let _ = writeln!(out, "{indent}    key_specs: &[");
        for spec in specs {
            let _ = writeln!(out, "{indent}        {spec},");
        }
        let _ = writeln!(out, "{indent}    ],");
    }
    if subcommands.is_empty() {
        let _ = writeln!(out, "{indent}    subcommands: &[],");
    } else {
        let _ = writeln!(out, "{indent}    subcommands: &[");
        for sub in subcommands {
            render_command(out, sub, &[], entries, depth + 2);
        }
        let _ = writeln!(out, "{indent}    ],");
    }
    let _ = writeln!(out, "{indent}    summary: {:?},", command.summary);
    let _ = writeln!(out, "{indent}    syntax: {:?},", command.syntax);
    // Every name has an entry (both come from the same servers).
    if let Some(entry) = entries.get(&command.name) {
        let _ = writeln!(out, "{indent}    {}", entry.since);
        if entry.variants.is_empty() {
            let _ = writeln!(out, "{indent}    variants: &[],");
        } else {
            let _ = writeln!(out, "{indent}    variants: &[");
            for variant in &entry.variants {
                let _ = writeln!(out, "{indent}        {variant}");
            }
            let _ = writeln!(out, "{indent}    ],");
        }
    }
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

/// The committed table against the server the harness runs (`REDIS_SERVER`, or
/// `redis-server` on `PATH`): every command and subcommand the server lists is in the table,
/// available on the server's own version, with the server's arity, flags and key
/// specifications; and on a version the table was generated from, the table claims nothing the
/// server lacks.
#[cfg(test)]
mod table_matches_the_server {
    use redis_script_analysis::{
        BeginSearch, Command as TableCommand, FindKeys, GENERATED_FROM, Server, Target, Version,
        find_command,
    };

    use super::*;

    /// The server, and the target that is exactly its version.
    fn observe_harness_server() -> (Observation, Target) {
        let binary = throwaway_redis::server_version().expect("a server binary");
        let program = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let observation = observe(&program).expect("read the server's COMMAND and COMMAND DOCS");
        let server = match observation.family {
            Family::Redis => Server::Redis,
            Family::Valkey => Server::Valkey,
        };
        let version = Version::new(observation.version.0, observation.version.1);
        assert!(binary.version.starts_with(&version.to_string()));
        (observation, Target::new(server, version))
    }

    fn table_entry(name: &str) -> Option<&'static TableCommand> {
        match name.split_once('|') {
            Some((container, sub)) => find_command(container)?.subcommand(sub),
            None => find_command(name),
        }
    }

    /// A key spec as the generator renders it, from the table's typed form.
    fn spec_code(spec: &redis_script_analysis::KeySpec) -> String {
        let flags: Vec<String> = spec.flags.names().map(str::to_owned).collect();
        let begin = match spec.begin_search {
            BeginSearch::Index(index) => format!("BeginSearch::Index({index})"),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => {
                format!("BeginSearch::Keyword {{ keyword: {keyword:?}, start_from: {start_from} }}")
            }
            BeginSearch::Unknown => "BeginSearch::Unknown".to_owned(),
        };
        let find = match spec.find_keys {
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => format!(
                "FindKeys::Range {{ last_key: {last_key}, key_step: {key_step}, limit: {limit} }}"
            ),
            FindKeys::KeyNum {
                key_num_index,
                first_key,
                key_step,
            } => format!(
                "FindKeys::KeyNum {{ key_num_index: {key_num_index}, first_key: {first_key}, key_step: {key_step} }}"
            ),
            FindKeys::Unknown => "FindKeys::Unknown".to_owned(),
        };
        format!(
            "KeySpec {{ flags: {}, begin_search: {begin}, find_keys: {find} }}",
            spec_flags(&flags)
        )
    }

    #[test]
    fn every_command_of_the_server_is_in_the_table_as_the_server_defines_it() {
        let (observation, target) = observe_harness_server();
        let mut problems = Vec::new();
        for (name, command) in &observation.commands {
            let Some(entry) = table_entry(name) else {
                problems.push(format!("{name}: not in the table"));
                continue;
            };
            if !entry.available_on(target) {
                problems.push(format!(
                    "{name}: the table says {:?}, but {target} has it",
                    entry.since
                ));
                continue;
            }
            let defined = entry.on(target);
            if i64::from(defined.arity) != command.arity {
                problems.push(format!(
                    "{name}: arity {} in the table, {} on the server",
                    defined.arity, command.arity
                ));
            }
            let mut flags: Vec<&str> = defined.flags.names().collect();
            flags.sort_unstable();
            if flags != command.flags {
                problems.push(format!(
                    "{name}: flags {flags:?} in the table, {:?} on the server",
                    command.flags
                ));
            }
            let specs: Vec<String> = defined.key_specs.iter().map(spec_code).collect();
            if specs != render_specs(&command.key_specs) {
                problems.push(format!(
                    "{name}: other key specifications than the server's"
                ));
            }
        }
        // On a version the table was generated from, nothing more either.
        let generated = GENERATED_FROM.iter().any(|(server, version)| {
            *server == target.server && *version == observation.version_text
        });
        if generated {
            for command in redis_script_analysis::COMMANDS {
                for entry in std::iter::once(command).chain(command.subcommands) {
                    if entry.available_on(target) && !observation.commands.contains_key(entry.name)
                    {
                        problems.push(format!(
                            "{}: the table says {target} has it, the server does not",
                            entry.name
                        ));
                    }
                }
            }
        }
        assert_eq!(
            problems,
            Vec::<String>::new(),
            "the committed table differs from {}: regenerate it with \
             tools/command-table/regenerate.sh (with this server added if it is new)",
            observation.label()
        );
        assert!(observation.commands.len() > 300);
    }

    #[test]
    fn since_comes_from_the_servers_own_command_docs() {
        let (observation, target) = observe_harness_server();
        // Each command's `since` on the server is what the table says, or older (the table
        // never claims a command for a version without it).
        for (name, doc) in &observation.docs {
            let (Some(since), Some(entry)) = (doc.since.as_deref(), table_entry(name)) else {
                continue;
            };
            let Some(reported) = Version::parse(since) else {
                continue;
            };
            let table = entry.since.of(target.server).expect("checked above");
            assert!(
                reported <= table || reported <= target.server.oldest(),
                "{name}: COMMAND DOCS says since {reported}, the table {table}"
            );
        }
        let hexpire = find_command("hexpire").expect("HEXPIRE is in the table");
        assert_eq!(hexpire.since.redis, Some(Version::new(7, 4)));
        assert_eq!(hexpire.since.valkey, Some(Version::new(9, 0)));
    }
}
