use crate::table_usage::{TableUsage, TableUsages, find_table_usages};
use crate::{
    AssembledScript, Blame, Declaration, Diagnostic, Field, Lint, Location, Shebang, Target,
    parse_shebang,
};

/// Everything [`analyze`] learns about a script.
///
/// ```
/// use redis_script_analysis::{analyze, Declaration};
///
/// let analysis = analyze("#!lua flags=no-writes\nreturn 1", &Declaration::default());
/// assert!(analysis.shebang.unwrap().flags.no_writes);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The `#!lua` line, if the script has one (and it parsed).
    pub shebang: Option<Shebang>,
    /// How the script reads `KEYS`.
    pub keys: TableUsage,
    /// How the script reads `ARGV`.
    pub args: TableUsage,
    /// What is wrong, in source order of discovery; empty for a script that passes.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `source` (Lua 5.1, as Redis runs it) and checks it against `declaration`:
///
/// - the shebang line names only flags Redis knows;
/// - the script is valid Lua (only the first syntax error is reported: later ones are usually
///   its echoes);
/// - every `KEYS[n]` / `ARGV[n]` with a literal `n` is one the struct fills;
/// - every declared field is read, unless the script reads the table dynamically (`#KEYS`,
///   `ipairs(ARGV)`, `KEYS[i]`, ...), in which case this cannot be known and nothing is said;
/// - a variadic field is only declared for a script that reads its table dynamically;
/// - every `redis.call` / `redis.pcall` names a known command with a valid number of arguments,
///   allowed in scripts and by the shebang flags, and touches only declared keys; the script
///   keeps to Redis's Lua sandbox (the command table is [`COMMANDS`](crate::COMMANDS)).
///
/// A deeply nested script is analysed on a thread with a large stack, so that no script can
/// overflow the caller's.
///
/// ```
/// use redis_script_analysis::{analyze, Declaration, Field};
///
/// let declaration = Declaration {
///     name: "Get".into(),
///     keys: vec![Field::single("key")],
///     args: vec![],
///     standalone_only: false,
///     extra_commands: vec![],
///     allow: vec![],
///     returns: Default::default(),
/// };
/// let analysis = analyze("return redis.call('GET', KEYS[2])", &declaration);
/// assert_eq!(analysis.diagnostics.len(), 2); // KEYS[2] is not declared, KEYS[1] is not read
/// ```
pub fn analyze(source: &str, declaration: &Declaration) -> Analysis {
    analyze_on(source, declaration, Target::DEFAULT)
}

/// [`analyze`] for a script that must run on `target` and later versions of that server
/// (`#[redis_script(server = "redis-7.4")]`): commands are checked against what that server
/// has, with its arity and flags.
///
/// ```
/// use redis_script_analysis::{Declaration, Field, Lint, Target, analyze_on};
///
/// let declaration = Declaration {
///     name: "Expire".into(),
///     keys: vec![Field::single("hash")],
///     args: vec![],
///     ..Declaration::default()
/// };
/// let source = "return redis.call('HEXPIRE', KEYS[1], 60, 'FIELDS', 1, 'f')";
/// let old = analyze_on(source, &declaration, Target::DEFAULT);
/// assert_eq!(old.diagnostics[0].lint, Lint::CommandNotOnTarget);
/// let new = analyze_on(source, &declaration, "redis-7.4".parse().unwrap());
/// assert!(new.diagnostics.is_empty());
/// ```
pub fn analyze_on(source: &str, declaration: &Declaration, target: Target) -> Analysis {
    // Lua's own nesting limit, checked before a parser that could overflow the stack beyond it.
    let nesting = crate::redis_calls::measure_nesting(source);
    let mut analysis = crate::redis_calls::with_stack_for(nesting.as_ref().ok(), || {
        analyze_here(source, declaration, target, nesting.as_ref().err())
    });
    apply_allows(&mut analysis.diagnostics, source, declaration);
    analysis
}

/// Drops the diagnostics that the struct or a Lua comment allows, and adds the allow comments
/// that are themselves wrong.
pub(crate) fn apply_allows(
    diagnostics: &mut Vec<Diagnostic>,
    source: &str,
    declaration: &Declaration,
) {
    let (line_allows, invalid_allows) = crate::allows::line_allows(source);
    diagnostics.retain(|diagnostic| {
        let lint = diagnostic.lint;
        !(lint.allowable()
            && (declaration.allow.contains(&lint)
                || diagnostic
                    .location
                    .is_some_and(|location| line_allows.allows(location.line, lint))))
    });
    diagnostics.extend(invalid_allows);
}

/// Moves each diagnostic from its line of the assembled source to the file and line the code
/// is written in.
pub(crate) fn locate_in_files(diagnostics: &mut [Diagnostic], script: &AssembledScript) {
    for diagnostic in diagnostics {
        if let Some(location) = diagnostic.location
            && diagnostic.origin.is_none()
        {
            let (location, origin) = script.origin_of(location);
            diagnostic.location = Some(location);
            diagnostic.origin = origin;
        }
    }
}

/// The parsed script, or its first syntax error (later ones are usually its echoes).
pub(crate) fn parse_checked(source: &str) -> Result<full_moon::ast::Ast, Diagnostic> {
    let Some(parsed) = crate::redis_calls::parse_lua(source) else {
        return Err(crate::redis_calls::parser_failure());
    };
    parsed.map_err(|errors| {
        let error = errors.first();
        let location = error.map(|error| {
            let (start, _) = error.range();
            Location {
                line: start.line(),
                column: start.character(),
            }
        });
        Diagnostic::new(
            Lint::LuaSyntaxError,
            location,
            format!(
                "Lua syntax error: {}",
                error.map_or_else(String::new, |error| error.error_message().to_string())
            ),
            "fix the Lua syntax (Redis runs Lua 5.1)",
            Blame::Script,
        )
    })
}

/// [`analyze`] for a script assembled from several files ([`assemble_script`]): every
/// diagnostic located in an included file names that file, its own line and the chain of
/// includes that brought it in.
///
/// ```
/// use redis_script_analysis::{analyze_script, AssembledScript, Declaration};
///
/// let script = AssembledScript::single("lua/x.lua", "return redis.call('GETT', 'k')");
/// let analysis = analyze_script(&script, &Declaration::default());
/// assert_eq!(analysis.diagnostics[0].origin, None); // in the script's own file
/// ```
///
/// [`assemble_script`]: crate::assemble_script
pub fn analyze_script(script: &AssembledScript, declaration: &Declaration) -> Analysis {
    analyze_script_on(script, declaration, Target::DEFAULT)
}

/// [`analyze_script`] for a script that must run on `target` (see [`analyze_on`]).
///
/// ```
/// use redis_script_analysis::{AssembledScript, Declaration, Target, analyze_script_on};
///
/// let script = AssembledScript::single("lua/x.lua", "return redis.call('COMMANDLOG', 'LEN', 'slow')");
/// let valkey: Target = "valkey-8.1".parse().unwrap();
/// assert!(analyze_script_on(&script, &Declaration::default(), valkey).diagnostics.is_empty());
/// ```
pub fn analyze_script_on(
    script: &AssembledScript,
    declaration: &Declaration,
    target: Target,
) -> Analysis {
    let mut analysis = analyze_on(&script.source, declaration, target);
    locate_in_files(&mut analysis.diagnostics, script);
    analysis
}

fn analyze_here(
    source: &str,
    declaration: &Declaration,
    target: Target,
    too_deep: Option<&Diagnostic>,
) -> Analysis {
    let mut analysis = Analysis::default();
    match parse_shebang(source) {
        Ok(shebang) => analysis.shebang = shebang,
        Err(diagnostic) => analysis.diagnostics.push(diagnostic),
    }
    // The keys' hash slots depend on the declaration and the flags only, not on the Lua.
    let flags = analysis
        .shebang
        .map(|shebang| shebang.flags)
        .unwrap_or_default();
    analysis
        .diagnostics
        .extend(crate::check_key_slots(declaration, flags));

    if let Some(diagnostic) = too_deep {
        analysis.diagnostics.push(diagnostic.clone());
        return analysis;
    }
    let ast = match parse_checked(source) {
        Ok(ast) => ast,
        Err(diagnostic) => {
            analysis.diagnostics.push(diagnostic);
            return analysis;
        }
    };

    let TableUsages { keys, args } = find_table_usages(&ast);
    check_table(
        &Table::KEYS,
        &keys,
        &declaration.keys,
        declaration,
        &mut analysis.diagnostics,
    );
    check_table(
        &Table::ARGV,
        &args,
        &declaration.args,
        declaration,
        &mut analysis.diagnostics,
    );
    analysis
        .diagnostics
        .extend(crate::redis_calls::check_redis_calls(
            &ast,
            source,
            declaration,
            analysis.shebang.as_ref(),
            target,
        ));
    analysis.keys = keys;
    analysis.args = args;
    analysis
}

/// The words that differ between the `KEYS` and `ARGV` messages.
pub(crate) struct Table<'n> {
    /// How the code names the table: `KEYS`, or a function's parameter.
    name: &'n str,
    /// Who reads it: "the script", "the function".
    reader: &'static str,
    keys: bool,
    attribute: &'static str,
    singular: &'static str,
    plural: &'static str,
    blame: fn(usize) -> Blame,
}

impl Table<'static> {
    /// The same table as a function's callback names it: `name` is its parameter.
    pub(crate) fn of_function<'n>(&self, name: &'n str) -> Table<'n> {
        Table {
            name,
            reader: "the function",
            keys: self.keys,
            attribute: self.attribute,
            singular: self.singular,
            plural: self.plural,
            blame: self.blame,
        }
    }

    pub(crate) const KEYS: Table<'static> = Table {
        name: "KEYS",
        reader: "the script",
        keys: true,
        attribute: "#[key]",
        singular: "key",
        plural: "keys",
        blame: Blame::Key,
    };
    pub(crate) const ARGV: Table<'static> = Table {
        name: "ARGV",
        reader: "the script",
        keys: false,
        attribute: "#[arg]",
        singular: "arg",
        plural: "args",
        blame: Blame::Arg,
    };
}

pub(crate) fn check_table(
    table: &Table<'_>,
    usage: &TableUsage,
    fields: &[Field],
    declaration: &Declaration,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Table {
        name,
        reader,
        keys,
        attribute,
        singular,
        plural,
        ..
    } = table;
    let fixed = fields.iter().filter(|field| !field.variadic).count() as u64;
    let has_variadic = fields.iter().any(|field| field.variadic);

    let mut reported = Vec::new();
    for read in &usage.literal_indices {
        if reported.contains(&read.index) {
            continue;
        }
        if read.index == 0 {
            reported.push(0);
            diagnostics.push(Diagnostic {
                lint: Lint::IndexZero,
                origin: None,
                location: Some(read.location),
                message: format!(
                    "`{name}[{}]` is always nil: Lua arrays start at 1 and take whole numbers",
                    read.literal
                ),
                help: format!("the first entry is `{name}[1]`"),
                blame: Blame::Script,
            });
        } else if read.index > fixed && !has_variadic {
            reported.push(read.index);
            let declared = match fields.len() {
                0 => format!("no {plural}"),
                1 => format!("only 1 {singular} (`{}`)", fields[0].name),
                n => format!("only {n} {plural} ({})", field_list(fields)),
            };
            diagnostics.push(Diagnostic {
                lint: if *keys {
                    Lint::KeyIndexOutOfRange
                } else {
                    Lint::ArgIndexOutOfRange
                },
                origin: None,
                location: Some(read.location),
                message: format!(
                    "{reader} reads `{name}[{}]`, but `{}` declares {declared}",
                    read.index, declaration.name
                ),
                help: format!(
                    "add {attribute} fields up to {name}[{}] ({attribute} fields fill {name} in \
                     declaration order), or correct the index",
                    read.index
                ),
                blame: Blame::Struct,
            });
        }
    }

    if usage.dynamic.is_some() {
        // `#KEYS`, loops and `unpack` can read any entry: which fields are read cannot be known.
        return;
    }
    for (position, field) in fields.iter().enumerate() {
        let index = position as u64 + 1;
        if field.unread {
            // A stale marker would hide the field's next real removal from the script.
            if let Some(read) = usage
                .literal_indices
                .iter()
                .find(|read| read.index == index)
            {
                diagnostics.push(Diagnostic::new(
                    Lint::ReadFieldMarkedUnread,
                    Some(read.location),
                    format!(
                        "`{}` is marked {singular_attribute}(unread)], but {reader} reads \
                         `{name}[{index}]` here",
                        field.name,
                        singular_attribute = attribute.trim_end_matches(']'),
                    ),
                    format!("remove `unread` from `{}`", field.name),
                    (table.blame)(position),
                ));
            }
            continue;
        }
        if field.variadic {
            let highest = usage
                .highest_literal_index()
                .map(|highest| format!(" (up to `{name}[{highest}]`)"))
                .unwrap_or_default();
            diagnostics.push(Diagnostic {
                lint: Lint::VariadicWithoutDynamicRead,
                origin: None,
                location: None,
                message: format!(
                    "`{}` is variadic, but {reader} reads {name} only at fixed positions{highest}, \
                     so the extra {plural} would never be read",
                    field.name
                ),
                help: format!(
                    "read them in {reader}, e.g. `for i = {index}, #{name} do ... end` or \
                     `unpack({name}, {index})`, or make `{}` a plain {attribute}",
                    field.name
                ),
                blame: (table.blame)(position),
            });
        } else if !usage.reads_literal(index) {
            diagnostics.push(Diagnostic {
                lint: if *keys {
                    Lint::UnreadKey
                } else {
                    Lint::UnreadArgument
                },
                origin: None,
                location: None,
                message: format!(
                    "`{}` is sent as `{name}[{index}]`, but {reader} never reads `{name}[{index}]`",
                    field.name
                ),
                help: format!(
                    "read `{name}[{index}]` in {reader}, or remove the field ({attribute} fields \
                     fill {name} in declaration order)"
                ),
                blame: (table.blame)(position),
            });
        }
    }
}

fn field_list(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|field| format!("`{}`", field.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> Declaration {
        Declaration {
            name: "Transfer".into(),
            keys: vec![Field::single("from"), Field::single("to")],
            args: vec![Field::single("amount")],
            // Plain keys: the slot proof (slot_proof.rs) is not what these tests are about.
            standalone_only: true,
            extra_commands: vec![],
            allow: vec![],
            returns: Default::default(),
        }
    }

    #[test]
    fn a_matching_script_passes() {
        let source = "local a = redis.call('DECRBY', KEYS[1], ARGV[1])\nredis.call('INCRBY', KEYS[2], ARGV[1])\nreturn a";
        let analysis = analyze(source, &transfer());
        assert_eq!(analysis.diagnostics, vec![]);
        assert_eq!(analysis.shebang, None);
    }

    #[test]
    fn syntax_error_has_a_location() {
        let analysis = analyze("local x = 1\nlocal y = x +\n", &transfer());
        assert_eq!(analysis.diagnostics.len(), 1);
        let diagnostic = &analysis.diagnostics[0];
        assert!(
            diagnostic.message.starts_with("Lua syntax error: "),
            "{diagnostic:?}"
        );
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 2,
                column: 13
            })
        );
        assert_eq!(
            diagnostic.message,
            "Lua syntax error: expected expression after binary operator"
        );
    }

    #[test]
    fn out_of_range_index_is_reported_once_per_index() {
        let source = "return {KEYS[1], KEYS[2], KEYS[3], KEYS[3], ARGV[1]}";
        let analysis = analyze(source, &transfer());
        assert_eq!(analysis.diagnostics.len(), 1, "{:?}", analysis.diagnostics);
        let diagnostic = &analysis.diagnostics[0];
        assert_eq!(diagnostic.blame, Blame::Struct);
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 1,
                column: 27
            })
        );
        assert_eq!(
            diagnostic.message,
            "the script reads `KEYS[3]`, but `Transfer` declares only 2 keys (`from`, `to`)"
        );
    }

    #[test]
    fn unread_field_blames_the_field() {
        let analysis = analyze("return {KEYS[1], ARGV[1]}", &transfer());
        assert_eq!(analysis.diagnostics.len(), 1);
        assert_eq!(analysis.diagnostics[0].blame, Blame::Key(1));
        assert!(
            analysis.diagnostics[0]
                .message
                .starts_with("`to` is sent as `KEYS[2]`")
        );
    }

    #[test]
    fn dynamic_reads_silence_the_unread_check() {
        let analysis = analyze("return {#KEYS, ARGV[1]}", &transfer());
        assert_eq!(analysis.diagnostics, vec![]);
    }

    #[test]
    fn a_shadowed_table_is_not_checked() {
        for source in [
            "local KEYS = {'a', 'b', 'c', 'd', 'e'}\nreturn {KEYS[5], ARGV[1]}",
            "local function f(KEYS) return KEYS[5] end\nreturn f({}), ARGV[1]",
            "local ARGV = {}\nreturn {KEYS[1], KEYS[2], ARGV[9]}",
        ] {
            assert_eq!(analyze(source, &transfer()).diagnostics, vec![], "{source}");
        }
        // The table itself, outside the shadowing function, still is.
        let analysis = analyze(
            "local function f(KEYS) return KEYS[5] end\nreturn {f({}), KEYS[3], ARGV[1]}",
            &transfer(),
        );
        assert_eq!(analysis.diagnostics.len(), 1, "{:?}", analysis.diagnostics);
        assert!(analysis.diagnostics[0].message.contains("`KEYS[3]`"));
    }

    #[test]
    fn reads_through_the_globals_table_count() {
        let analysis = analyze("return {KEYS[1], _G.KEYS[2], _G['ARGV'][1]}", &transfer());
        assert_eq!(analysis.diagnostics, vec![]);
        let analysis = analyze(
            "return {_G.KEYS[3], KEYS[1], KEYS[2], ARGV[1]}",
            &transfer(),
        );
        assert_eq!(analysis.diagnostics.len(), 1, "{:?}", analysis.diagnostics);
        // `_G` as a value may read any entry of either table.
        assert_eq!(
            analyze("return rawget(_G, 'KEYS')", &transfer()).diagnostics,
            vec![]
        );
    }

    #[test]
    fn long_unary_chains_are_too_deep_not_a_crash() {
        for source in [
            format!("return {}x", "not ".repeat(100_000)),
            format!("return {}1", "- ".repeat(1_000_000)),
            format!("return {}t", "#".repeat(100_000)),
        ] {
            let analysis = analyze(&source, &transfer());
            assert_eq!(analysis.diagnostics.len(), 1, "{:?}", analysis.diagnostics);
            assert!(
                analysis.diagnostics[0]
                    .message
                    .contains("too many syntax levels")
            );
        }
        let valid = format!("return {}ARGV[1], KEYS[1], KEYS[2]", "not ".repeat(150));
        assert_eq!(analyze(&valid, &transfer()).diagnostics, vec![]);
    }

    #[test]
    fn variadic_needs_a_dynamic_read() {
        let declaration = Declaration {
            name: "Del".into(),
            keys: vec![Field::single("first"), Field::variadic("rest")],
            args: vec![],
            standalone_only: true,
            extra_commands: vec![],
            allow: vec![],
            returns: Default::default(),
        };
        assert_eq!(
            analyze(
                "return redis.call('DEL', unpack(KEYS, 1, 100))",
                &declaration
            )
            .diagnostics,
            vec![]
        );
        // A variadic field may supply indices past the fixed ones.
        assert_eq!(
            analyze("return {KEYS[3], #KEYS}", &declaration).diagnostics,
            vec![]
        );
        let fixed_only = analyze("return {KEYS[1], KEYS[2]}", &declaration);
        assert_eq!(fixed_only.diagnostics.len(), 1);
        assert_eq!(fixed_only.diagnostics[0].blame, Blame::Key(1));
        assert!(
            fixed_only.diagnostics[0]
                .message
                .contains("up to `KEYS[2]`")
        );
    }

    #[test]
    fn index_zero_is_always_nil() {
        let analysis = analyze("return {KEYS[0], KEYS[1], KEYS[2], ARGV[1]}", &transfer());
        assert_eq!(analysis.diagnostics.len(), 1);
        assert!(analysis.diagnostics[0].message.contains("always nil"));
    }

    #[test]
    fn bad_shebang_is_reported_and_the_rest_still_checked() {
        let analysis = analyze("#!lua flags=nope\nreturn KEYS[3]", &transfer());
        let messages: Vec<_> = analysis
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert_eq!(messages[0], "unknown script flag `nope`");
    }
}
