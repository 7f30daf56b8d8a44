//! The checks of one `redis.call` / `redis.pcall` against the command table.

use super::commands::{Command, CommandFlags, Since, find_command, similar_commands};
use super::values::Span;
use super::values::{KeyTable, KeyValue, Prefix, Value};
use super::walker::or_list;
use super::{Code, Context};
use crate::{Blame, Diagnostic, Field, HashTag, Lint, Location, Server, Target, Version};

/// One argument of a call, as the walk found it.
pub(crate) struct Argument {
    pub value: Value,
    /// The last argument, when it is a call or `...` and so gives any number of values.
    pub multiple: bool,
    pub location: Location,
    /// Where it is written in the script.
    pub text: Span,
}

/// The call itself.
pub(crate) struct CallSite {
    /// Where `redis.call('GET', KEYS[1])` is written.
    pub text: Span,
    /// Where it starts.
    pub location: Location,
    /// `redis.pcall` (or `pcall(redis.call, ...)`), whose errors the script handles.
    pub protected: bool,
    /// How the call is written up to its arguments, for examples in messages:
    /// `redis.call(`, `redis.pcall(`, `pcall(redis.call, `.
    pub opening: &'static str,
}

/// Commands that Redis 7.0 flags `may_replicate` internally, and so refuses in `no-writes`
/// scripts ("Write commands are not allowed from read-only scripts"), but whose `COMMAND INFO`
/// does not list the flag, so the generated table lacks it. (The others so flagged are
/// `noscript` anyway.)
const UNLISTED_MAY_REPLICATE: &[&str] = &["pfcount", "publish", "spublish"];

const NEVER_ON_A_CLUSTER: &str = "if the script never runs on a Redis Cluster, say so with \
     `#!lua flags=no-cluster` on its first line (or `#[redis_script(standalone_only)]` on the \
     struct, for a script that must also run on Redis 6)";

/// Every problem with one call.
/// `declared`: whether the struct's declaration applies at this call (not in another function
/// of a library), so that keys and `no-writes` can be checked against it.
pub(crate) fn check_call(
    site: &CallSite,
    arguments: &[Argument],
    context: &Context<'_>,
    declared: bool,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let call = context.code(site.text);
    let (fixed, rest) = match arguments.split_last() {
        Some((last, fixed)) if last.multiple => (fixed, Some(last)),
        _ => (arguments, None),
    };

    let Some(name) = fixed.first() else {
        match rest.map(|rest| rest.value.clone().single()) {
            Some(Value::Argv) if context.cluster => {
                diagnostics.push(non_literal_name(call, rest, "ARGV", context));
            }
            Some(_) => {}
            None => diagnostics.push(Diagnostic {
                lint: Lint::CallWithoutCommand,
                origin: None,
                location: Some(site.location),
                message: format!("`{call}` names no command"),
                help: format!(
                    "Redis answers \"Please specify at least one argument for this redis lib \
                     call\"; pass the command and its arguments, e.g. `{}'GET', KEYS[1])`",
                    site.opening
                ),
                blame: Blame::Script,
            }),
        }
        return diagnostics;
    };

    match &name.value {
        Value::Literal(alternatives) => {
            // A name with several possible values (`local op = 'INCRBY' ... op = 'INCR'`) is a
            // certain error only when every one of them fails; the script may well pass each
            // name only the arguments it takes.
            let mut failures = Vec::with_capacity(alternatives.len());
            for alternative in alternatives {
                let mut found = Vec::new();
                check_command(
                    &mut found,
                    alternative,
                    name,
                    &fixed[1..],
                    rest,
                    site,
                    call,
                    context,
                    declared,
                );
                if found.is_empty() {
                    return diagnostics;
                }
                failures.push(found);
            }
            for diagnostic in failures.into_iter().flatten() {
                if !diagnostics.contains(&diagnostic) {
                    diagnostics.push(diagnostic);
                }
            }
        }
        Value::Argv if context.cluster => {
            diagnostics.push(non_literal_name(call, Some(name), "ARGV", context));
        }
        Value::Key(key) if context.cluster => {
            let table = match key.table {
                KeyTable::Keys => "KEYS",
                KeyTable::Argv => "ARGV",
            };
            diagnostics.push(non_literal_name(call, Some(name), table, context));
        }
        _ => {}
    }
    diagnostics
}

fn non_literal_name(
    call: Code<'_>,
    name: Option<&Argument>,
    source: &str,
    context: &Context<'_>,
) -> Diagnostic {
    let written = name.map_or_else(String::new, |name| {
        format!(" (`{}`)", context.code(name.text))
    });
    Diagnostic {
        lint: Lint::CommandFromArgv,
        origin: None,
        location: name.map(|name| name.location),
        message: format!(
            "`{call}` takes its command name from {source}{written}, so which keys the call \
             touches cannot be known: on a cluster they may be served by another node, which \
             refuses them, and nobody reading the struct (or reviewing ACLs) can see what the \
             script does"
        ),
        help: format!(
            "call each command with a literal name, e.g. `if ARGV[1] == 'INCR' then \
             redis.call('INCR', KEYS[1]) end`; {NEVER_ON_A_CLUSTER}"
        ),
        blame: Blame::Script,
    }
}

/// Whether the struct names `command` (or its subcommand `sub`, as `CONTAINER|SUB`) in
/// `extra_commands`: a command of a newer Redis than the command table's.
fn is_extra(context: &Context<'_>, command: &str, sub: Option<&str>) -> bool {
    context
        .declaration
        .extra_commands
        .iter()
        .any(|extra| match sub {
            None => extra.eq_ignore_ascii_case(command),
            Some(sub) => extra.split_once('|').is_some_and(|(container, extra_sub)| {
                container.eq_ignore_ascii_case(command) && extra_sub.eq_ignore_ascii_case(sub)
            }),
        })
}

#[allow(clippy::too_many_arguments)]
fn check_command(
    diagnostics: &mut Vec<Diagnostic>,
    name: &str,
    name_argument: &Argument,
    after_name: &[Argument],
    rest: Option<&Argument>,
    site: &CallSite,
    call: Code<'_>,
    context: &Context<'_>,
    declared: bool,
) {
    let Some(command) = find_command(name) else {
        // Module commands are named `module.command` (`JSON.SET`, `BF.ADD`, `FT.SEARCH`) and
        // exist on servers that load the module; the table knows only Redis's own. Under
        // `redis.pcall` the script gets the error as a reply and may handle it (probing for a
        // module, say), so an unknown name is no certain error there either.
        if name.contains('.') || site.protected || is_extra(context, name, None) {
            return;
        }
        let similar = similar_commands(name, None);
        let suggestion = if similar.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", or_list(&as_strs(&similar)))
        };
        diagnostics.push(Diagnostic {
            lint: Lint::UnknownCommand,
            origin: None,
            location: Some(name_argument.location),
            message: format!("unknown Redis command `{name}` in `{call}`{suggestion}"),
            help: format!(
                "{} answers \"{}\"; use a command of {} (command names are \
                 case-insensitive); if `{name}` is a command of a module or of a server the \
                 command table does not cover ({}), name it in \
                 #[redis_script(extra_commands = [\"{name}\"])]",
                context.target.server,
                Refusal::UnknownCommand.text(context.target),
                context.target,
                covered_servers()
            ),
            blame: Blame::Script,
        });
        return;
    };

    if !command.available_on(context.target) {
        // Under `redis.pcall` the script gets the error as a reply and may handle it (a
        // script probing for a newer server's command).
        if !site.protected {
            diagnostics.push(not_on_target(
                command,
                name_argument.location,
                call,
                context,
            ));
        }
        return;
    }

    // A container command (`OBJECT`, `XINFO`, ...) is resolved to its subcommand.
    let mut resolved = command;
    let mut after_names = after_name;
    // `COMMAND` alone is valid (its arity is -1); `OBJECT` alone is not.
    let bare = after_name.is_empty() && rest.is_none() && command.accepts_word_count(1);
    if !command.subcommands.is_empty() && !bare {
        let Some(sub_argument) = after_name.first() else {
            if rest.is_none() {
                diagnostics.push(Diagnostic {
                    lint: Lint::UnknownCommand,
                    origin: None,
                    location: Some(name_argument.location),
                    message: format!(
                        "`{call}` calls `{}` without a subcommand",
                        command.display_name()
                    ),
                    help: format!(
                        "{} answers \"{}\"; name one of its subcommands: {}",
                        context.target.server,
                        Refusal::WrongArity.text(context.target),
                        subcommand_list(command, context.target)
                    ),
                    blame: Blame::Script,
                });
            }
            return;
        };
        let Some(sub_name) = sub_argument.value.as_literal() else {
            return; // which subcommand cannot be known
        };
        match command.subcommand(sub_name) {
            Some(sub) if !sub.available_on(context.target) => {
                if !site.protected {
                    diagnostics.push(not_on_target(sub, sub_argument.location, call, context));
                }
                return;
            }
            Some(sub) => {
                resolved = sub;
                after_names = &after_name[1..];
            }
            None if site.protected => return, // an error reply the script may handle
            None if is_extra(context, command.name, Some(sub_name)) => return,
            None => {
                let similar = similar_commands(sub_name, Some(command));
                let suggestion = if similar.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", or_list(&as_strs(&similar)))
                };
                diagnostics.push(Diagnostic {
                    lint: Lint::UnknownCommand,
                    origin: None,
                    location: Some(sub_argument.location),
                    message: format!(
                        "`{}` has no subcommand `{sub_name}` (in `{call}`){suggestion}",
                        command.display_name()
                    ),
                    help: format!(
                        "{} answers \"{}\"; its subcommands on {} are {}; if `{sub_name}` is \
                         a subcommand of a server the command table does not cover ({}), name \
                         it in #[redis_script(extra_commands = [\"{}|{sub_name}\"])]",
                        context.target.server,
                        Refusal::UnknownCommand.text(context.target),
                        context.target,
                        subcommand_list(command, context.target),
                        covered_servers(),
                        command.display_name()
                    ),
                    blame: Blame::Script,
                });
                return;
            }
        }
    }
    // The definition of the target's version (another arity, other flags before a change).
    let newest = resolved;
    let resolved = &resolved.on(context.target);
    let display = resolved.display_name();

    if resolved.flags.contains(CommandFlags::NOSCRIPT) {
        diagnostics.push(Diagnostic {
            lint: Lint::CommandNotAllowedInScripts,
            origin: None,
            location: Some(name_argument.location),
            message: format!(
                "`{display}` cannot be called from a script (Redis flags it `noscript`): `{call}`"
            ),
            help: format!(
                "{} answers \"{}\"; {}{}",
                context.target.server,
                Refusal::NoScript.text(context.target),
                noscript_advice(resolved),
                later_versions_accept(newest, context.target, |later| {
                    !later.flags.contains(CommandFlags::NOSCRIPT)
                })
            ),
            blame: Blame::Script,
        });
        return;
    }

    let name_words = resolved.name.split('|').count();
    let words = name_words + after_names.len();
    let wrong_count = match rest {
        None => !resolved.accepts_word_count(words),
        // The spread may be empty, so only a fixed arity that is already exceeded is certain.
        Some(_) => resolved.arity >= 0 && words > resolved.arity as usize,
    };
    if wrong_count {
        let required = resolved.arity.unsigned_abs() as usize
            - name_words.min(resolved.arity.unsigned_abs() as usize);
        let takes = if resolved.arity >= 0 {
            format!("exactly {required}")
        } else {
            format!("at least {required}")
        };
        let passed = words - name_words;
        let passes = match rest {
            None => format!("{passed}"),
            Some(_) => format!("{passed} or more"),
        };
        diagnostics.push(Diagnostic {
            lint: Lint::WrongArity,
            origin: None,
            location: Some(name_argument.location),
            message: format!(
                "`{display}` takes {takes} argument{} after its name, but `{call}` passes {passes}",
                if required == 1 { "" } else { "s" }
            ),
            help: format!(
                "{} answers \"{}\"; the syntax is `{}`{}",
                context.target.server,
                Refusal::WrongArity.text(context.target),
                resolved.syntax,
                later_versions_accept(newest, context.target, |later| match rest {
                    None => later.accepts_word_count(words),
                    Some(_) => later.arity < 0 || words <= later.arity as usize,
                })
            ),
            blame: Blame::Script,
        });
    }

    let may_replicate = resolved.flags.contains(CommandFlags::MAY_REPLICATE)
        || UNLISTED_MAY_REPLICATE.contains(&resolved.name);
    if declared
        && context.no_writes
        && (resolved.flags.contains(CommandFlags::WRITE) || may_replicate)
    {
        let what = if resolved.flags.contains(CommandFlags::WRITE) {
            "writes"
        } else {
            "may replicate (Redis counts it as a write in scripts)"
        };
        diagnostics.push(Diagnostic {
            lint: Lint::WriteInNoWrites,
            origin: None,
            location: Some(name_argument.location),
            message: if context.library.is_some() {
                format!(
                    "`{display}` {what}, but the function is registered with flags = \
                     {{'no-writes'}}: `{call}`"
                )
            } else {
                format!(
                    "`{display}` {what}, but the script declares `#!lua flags=no-writes`: `{call}`"
                )
            },
            help: if context.library.is_some() {
                "Redis answers \"Write commands are not allowed from read-only scripts\"; \
                 remove 'no-writes' from the function's flags (it then runs with FCALL, on \
                 primaries only), or leave the write out"
            } else {
                "Redis answers \"Write commands are not allowed from read-only scripts\"; \
                 remove `no-writes` from the first line (the script then runs with EVALSHA, on \
                 primaries only), or leave the write out"
            }
            .to_owned(),
            blame: Blame::Script,
        });
    }

    if declared && context.cluster {
        check_keys(diagnostics, resolved, name, after_name, rest, call, context);
    }
}

/// The key arguments: each must be a declared key, or derived from one in the same slot.
#[allow(clippy::too_many_arguments)]
fn check_keys(
    diagnostics: &mut Vec<Diagnostic>,
    command: &Command,
    name: &str,
    after_name: &[Argument],
    rest: Option<&Argument>,
    call: Code<'_>,
    context: &Context<'_>,
) {
    let mut words: Vec<Option<&str>> = Vec::with_capacity(after_name.len() + 1);
    words.push(Some(name));
    words.extend(
        after_name
            .iter()
            .map(|argument| argument.value.as_literal()),
    );
    let found = command.key_positions(&words, rest.is_some());
    for position in found.positions {
        // `MIGRATE host port "" db timeout ... KEYS k1 k2`: with the KEYS form the key argument
        // is empty, and Redis ignores it.
        if command.name == "migrate" && position == 3 && words.get(3) == Some(&Some("")) {
            continue;
        }
        if let Some(argument) = position
            .checked_sub(1)
            .and_then(|index| after_name.get(index))
        {
            check_key(diagnostics, &argument.value, argument, call, context);
        }
    }
    if let (Some(from), Some(rest)) = (found.open_from, rest)
        && from <= words.len()
        && let Value::Spread(each) = &rest.value
    {
        check_key(diagnostics, each, rest, call, context);
    }
}

fn check_key(
    diagnostics: &mut Vec<Diagnostic>,
    value: &Value,
    argument: &Argument,
    call: Code<'_>,
    context: &Context<'_>,
) {
    let written = context.code(argument.text);
    let (lint, message, help) = match value {
        Value::Literal(alternatives) => {
            let names = alternatives
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>();
            let names = or_list(&as_strs(&names));
            (
                Lint::UndeclaredKey,
                format!(
                    "`{call}` accesses the key {names}, which the script does not receive in \
                     KEYS: {}, and nobody reading the struct (or reviewing ACLs) can see that \
                     the script touches it",
                    undeclared_refusal(context)
                ),
                format!(
                    "pass the key in a #[key] field and read it as `KEYS[n]`; {NEVER_ON_A_CLUSTER}"
                ),
            )
        }
        Value::Argv => (
            Lint::UndeclaredKey,
            format!(
                "`{call}` accesses a key built from ARGV (`{written}`), which the script does not \
                 receive in KEYS: {}, and nobody reading the struct (or reviewing ACLs) can see \
                 which keys the script touches",
                undeclared_refusal(context)
            ),
            format!(
                "pass the key itself in a #[key] field (not an #[arg]) and read it as `KEYS[n]`; \
                 if the argument is a key prefix with the keys' hash tag, say so with a template \
                 on the #[arg], e.g. #[arg(\"{{{{queue:{{}}}}}}:\")]; {NEVER_ON_A_CLUSTER}"
            ),
        ),
        Value::Key(key) if !key.exact() => match derived_key_problem(key, context) {
            Some(problem) => (
                Lint::KeyMayLeaveSlot,
                format!(
                    "`{call}` accesses `{written}`, a key derived from `{}`: {problem}",
                    context.code(key.written)
                ),
                derived_key_help(key, context),
            ),
            None => return,
        },
        _ => return,
    };
    diagnostics.push(Diagnostic {
        lint,
        origin: None,
        location: Some(argument.location),
        message,
        help,
        blame: Blame::Script,
    });
}

/// Why a key derived from a declared key may hash to another slot, or `None` when it cannot.
fn derived_key_problem(key: &KeyValue, context: &Context<'_>) -> Option<String> {
    match &key.prefix {
        Prefix::Braced(text) => {
            return Some(format!(
                "the text put before it, `{text}`, contains `{{`, so Redis may hash another part \
                 of the derived key than of the declared one, which puts it in another slot: {}",
                other_slot_refusal(context)
            ));
        }
        Prefix::FromArgv => {
            return Some(format!(
                "the value from ARGV put before it may contain `{{`, so Redis may hash another \
                 part of the derived key than of the declared one, which puts it in another \
                 slot: {}",
                other_slot_refusal(context)
            ));
        }
        Prefix::None | Prefix::BraceFree => {}
    }
    if key.table == KeyTable::Argv {
        // The argument's tag is proven to be the keys' by the slot proof (`check_key_slots`);
        // without a declared key there is no slot to be in.
        return context.declaration.keys.is_empty().then(|| {
            format!(
                "the script receives no key in KEYS, so a cluster may run it on any node, and \
                 the argument's hash tag proves nothing: {}",
                undeclared_refusal(context)
            )
        });
    }
    let fields = fields_of(key.index, &context.declaration.keys);
    if fields.is_empty() {
        return None; // an index the struct does not fill: reported by the KEYS checks
    }
    let unproven: Vec<String> = fields
        .iter()
        .filter(|field| !has_hash_tag(field))
        .map(|field| format!("`{}`", field.name))
        .collect();
    if unproven.is_empty() {
        return None;
    }
    let which = if key.index.is_some() {
        format!("its field {}", unproven.join(", "))
    } else {
        format!("the key fields {}", or_list(&as_strs(&unproven)))
    };
    Some(format!(
        "{which} has no key template with a hash tag, so the derived key may hash to another \
         slot than the declared key: {}",
        other_slot_refusal(context)
    ))
}

/// When a cluster node refuses a key the script does not receive in `KEYS`, as Redis 7 does:
/// always when another node serves the key; for a script with a shebang (and without
/// `allow-cross-slot-keys`), also when the node serves it but in another slot than the
/// script's other keys. A script without a shebang may touch any key its node serves.
fn undeclared_refusal(context: &Context<'_>) -> &'static str {
    if context.same_slot_only {
        "on a cluster Redis refuses it when it is in another slot than the script's other keys \
         (\"keys that do not hash to the same slot\": the script has a shebang without \
         `allow-cross-slot-keys`) or served by another node (\"non local key\")"
    } else {
        "on a cluster Redis refuses it when another node than the one running the script serves \
         it (\"non local key\")"
    }
}

/// When a cluster node refuses an undeclared key in another slot than the declared keys (see
/// [`undeclared_refusal`]).
fn other_slot_refusal(context: &Context<'_>) -> &'static str {
    if context.same_slot_only {
        "on a cluster Redis refuses it (\"keys that do not hash to the same slot\": the script \
         has a shebang without `allow-cross-slot-keys`)"
    } else {
        "on a cluster Redis refuses it when another node serves that slot (\"non local key\")"
    }
}

fn derived_key_help(key: &KeyValue, context: &Context<'_>) -> String {
    let field = fields_of(key.index, &context.declaration.keys)
        .first()
        .map_or_else(
            || "the field".to_owned(),
            |field| format!("`{}`", field.name),
        );
    match key.prefix {
        Prefix::Braced(_) | Prefix::FromArgv => format!(
            "append to the declared key instead of prepending (`{} .. ':suffix'`), give {field} a \
             key template with a hash tag, or pass the derived key in a #[key] field of its own; \
             {NEVER_ON_A_CLUSTER}",
            context.code(key.written)
        ),
        _ => format!(
            "give {field} a key template with a hash tag, e.g. #[key(\"{{{{user:{{}}}}}}\")], so \
             that keys derived from it share its slot; or pass the derived key in a #[key] field \
             of its own; {NEVER_ON_A_CLUSTER}"
        ),
    }
}

/// The fields that `KEYS[index]` may be (`None`: any).
fn fields_of(index: Option<u64>, keys: &[Field]) -> Vec<&Field> {
    match index {
        None => keys.iter().collect(),
        Some(index) => {
            let fixed = keys.iter().filter(|field| !field.variadic).count() as u64;
            if index >= 1 && index <= fixed {
                keys.get(index as usize - 1).into_iter().collect()
            } else {
                keys.iter().filter(|field| field.variadic).collect()
            }
        }
    }
}

/// Whether every key the field's template builds has a hash tag: text appended to such a key,
/// or text without `{` put before it, leaves the tag, and so the slot, unchanged.
pub(crate) fn has_hash_tag(field: &Field) -> bool {
    field
        .template
        .as_ref()
        .is_some_and(|template| matches!(template.hash_tag(&field.name), HashTag::Tag(_)))
}

/// The subcommands that `target` has.
fn subcommand_list(command: &Command, target: Target) -> String {
    command
        .subcommands
        .iter()
        .filter(|sub| sub.available_on(target))
        .map(|sub| {
            sub.name
                .split('|')
                .nth(1)
                .unwrap_or(sub.name)
                .to_ascii_uppercase()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal of a call from a script, which Valkey words without "Redis".
#[derive(Clone, Copy)]
enum Refusal {
    UnknownCommand,
    WrongArity,
    NoScript,
}

impl Refusal {
    /// The error text the target's server sends.
    fn text(self, target: Target) -> &'static str {
        match (self, target.server) {
            (Refusal::UnknownCommand, Server::Redis) => "Unknown Redis command called from script",
            (Refusal::UnknownCommand, Server::Valkey) => "Unknown command called from script",
            (Refusal::WrongArity, Server::Redis) => {
                "Wrong number of args calling Redis command from script"
            }
            (Refusal::WrongArity, Server::Valkey) => {
                "Wrong number of args calling command from script"
            }
            (Refusal::NoScript, Server::Valkey) if target.version >= Version::new(9, 0) => {
                "This Valkey command is not allowed from script"
            }
            (Refusal::NoScript, _) => "This Redis command is not allowed from script",
        }
    }
}

/// The servers the command table covers, for messages: "Redis 7.0 to 8.2, Valkey 7.2 to 9.1".
pub(super) fn covered_servers() -> String {
    [Server::Redis, Server::Valkey]
        .iter()
        .filter_map(|server| {
            let newest = super::command_table::GENERATED_FROM
                .iter()
                .filter(|(generated, _)| generated == server)
                .filter_map(|(_, version)| Version::parse(version))
                .max()?;
            Some(format!("{server} {} to {newest}", server.oldest()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Redis has it since 7.4, Valkey since 9.0", "only Valkey has it, since 8.1": of a command,
/// or of a name of the Lua sandbox.
pub(super) fn availability(since: Since) -> String {
    match (since.redis, since.valkey) {
        (Some(redis), Some(valkey)) => {
            format!("Redis has it since {redis}, Valkey since {valkey}")
        }
        (Some(redis), None) => format!("only Redis has it, since {redis}"),
        (None, Some(valkey)) => format!("only Valkey has it, since {valkey}"),
        (None, None) => "no server of the command table has it".to_owned(),
    }
}

/// How to declare a minimum server: in `Cargo.toml` for the crate, or on the struct.
fn raise_minimum(target: Target) -> String {
    format!(
        "`[package.metadata.redis-script] server = \"{target}\"` in the crate's Cargo.toml, or \
         #[redis_script(server = \"{target}\")] on the struct"
    )
}

/// What to declare for a command, or a name of the Lua sandbox, that the target lacks: a newer
/// minimum of the same server, or the other server.
pub(super) fn target_advice(since: Since, target: Target) -> String {
    match (since.of(target.server), target.server) {
        (Some(since), _) => format!(
            "if every server the crate runs on is {} {since} or newer, raise the minimum \
             server: {}",
            target.server,
            raise_minimum(Target::new(target.server, since))
        ),
        (None, server) => {
            let other = match server {
                Server::Redis => Server::Valkey,
                Server::Valkey => Server::Redis,
            };
            match since.of(other) {
                Some(since) => format!(
                    "{} does not have it at all; if the crate runs on {other} only, declare \
                     that: {}",
                    target.server,
                    raise_minimum(Target::new(other, since.max(other.oldest())))
                ),
                None => format!("{} does not have it", target.server),
            }
        }
    }
}

/// A command (or subcommand) that the target does not have.
fn not_on_target(
    command: &Command,
    location: Location,
    call: Code<'_>,
    context: &Context<'_>,
) -> Diagnostic {
    let target = context.target;
    let display = command.display_name();
    let advice = target_advice(command.since, target);
    Diagnostic {
        lint: Lint::CommandNotOnTarget,
        origin: None,
        location: Some(location),
        message: format!(
            "`{display}` is not a command of {target}, the oldest server this script must run \
             on ({}): `{call}`",
            availability(command.since)
        ),
        help: format!(
            "{} {} answers \"{}\"; {advice}",
            target.server,
            target.version,
            Refusal::UnknownCommand.text(target)
        ),
        blame: Blame::Script,
    }
}

/// "; redis-7.0 does not accept this call, Redis 7.2 and later do: ...", when a later version of the target's server
/// accepts what its version refuses.
fn later_versions_accept(
    newest: &Command,
    target: Target,
    accepts: impl Fn(&Command) -> bool,
) -> String {
    let Some(until) = newest
        .variants
        .iter()
        .find(|variant| {
            variant.server == target.server
                && variant.from <= target.version
                && variant.until.is_none_or(|until| target.version < until)
        })
        .and_then(|variant| variant.until)
    else {
        return String::new();
    };
    let later = newest.on(Target::new(target.server, until));
    if !accepts(&later) {
        return String::new();
    }
    format!(
        "; {target} does not accept this call, {server} {until} and later do: if every server \
         the crate runs on is {server} {until} or newer, raise the minimum server: {}",
        raise_minimum(Target::new(target.server, until)),
        server = target.server,
    )
}

fn noscript_advice(command: &Command) -> &'static str {
    let base = command.name.split('|').next().unwrap_or(command.name);
    match base {
        "multi" | "exec" | "discard" | "watch" | "unwatch" => {
            "a script already runs atomically, with no other command in between: leave the \
             transaction commands out"
        }
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "script"
        | "function" => {
            "a script cannot run other scripts: call the commands directly, or a local Lua \
             function"
        }
        "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe"
        | "sunsubscribe" => {
            "subscriptions need a connection of their own; a script may PUBLISH, and the \
             subscriber subscribes from the client"
        }
        "blpop" | "brpop" | "blmove" | "brpoplpush" | "bzpopmin" | "bzpopmax" | "blmpop"
        | "bzmpop" | "xread" | "xreadgroup" | "wait" | "waitaof" => {
            "a script cannot block; use the non-blocking form, or block from the client"
        }
        _ => "run it from the client, outside the script",
    }
}

fn as_strs(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}
