//! Redis 7 function libraries: `#!lua name=<library>` files that register functions with
//! `redis.register_function`, loaded with `FUNCTION LOAD` and called with `FCALL`.
//!
//! [`analyze_function`] checks a library the way [`analyze_script`](crate::analyze_script)
//! checks a script, for the one function a struct calls:
//!
//! - what `FUNCTION LOAD` refuses: no `#!lua name=` line or an invalid name, no function
//!   registered, one registered twice, an invalid function name, an unknown argument or flag
//!   of `register_function`, `redis.call` at the top level (outside every function), globals;
//! - the struct's function is registered (the closest names are suggested);
//! - inside its callback, the keys and args are read through the callback's own parameters
//!   (`function(keys, args)`, whatever their names) exactly as a script reads `KEYS` and
//!   `ARGV`: indices beyond the declared fields, unread fields, a variadic field without a
//!   dynamic read; `KEYS` and `ARGV`, which do not exist in functions, are errors;
//! - every Redis-aware check of scripts (commands, arity, `no-writes` from the function's own
//!   flags, undeclared keys, the sandbox), the checks that depend on the struct's keys only
//!   inside its callback.
//!
//! ```
//! use redis_script_analysis::{analyze_function, AssembledScript, Declaration, Field};
//!
//! let library = "#!lua name=bank\n\
//!     local function balance(keys) return redis.call('GET', keys[1]) end\n\
//!     redis.register_function{function_name = 'balance', callback = balance, flags = {'no-writes'}}\n";
//! let declaration = Declaration {
//!     name: "Balance".into(),
//!     keys: vec![Field::single("account")],
//!     ..Declaration::default()
//! };
//! let analysis = analyze_function(&AssembledScript::single("lua/bank.lua", library), "balance", &declaration);
//! assert_eq!(analysis.diagnostics, vec![]);
//! let library = analysis.library.unwrap();
//! assert_eq!(library.name, "bank");
//! assert!(library.functions[0].flags.no_writes);
//! ```

use full_moon::ast::{
    Ast, Call, Expression, Field as TableField, FunctionArgs, FunctionBody, Index, Prefix, Stmt,
    Suffix, TableConstructor, Var,
};
use full_moon::tokenizer::{Token, TokenReference, TokenType};

use crate::checks::{Table, check_table, parse_checked};
use crate::redis_calls::{LibraryTarget, check_library_calls, lua_text::string_value, walker};
use crate::table_usage::{find_parameter_usages, parameter_names};
use crate::{
    AssembledScript, Blame, Declaration, Diagnostic, Lint, Location, ShebangFlags, TableUsage,
    Target,
};

/// A function library as the analysis read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Library {
    /// The name in `#!lua name=<library>`.
    pub name: String,
    /// The functions it registers, in order.
    pub functions: Vec<RegisteredFunction>,
}

/// One `redis.register_function` of a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredFunction {
    /// The function's name, as `FCALL` names it.
    pub name: String,
    /// Its `flags`, which Redis applies as it applies a script's shebang flags.
    pub flags: ShebangFlags,
    /// Where it is registered.
    pub location: Location,
}

/// What [`analyze_function`] learns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionAnalysis {
    /// The library, when its first line and registrations could be read.
    pub library: Option<Library>,
    /// How the function's callback reads its keys (first parameter).
    pub keys: TableUsage,
    /// How the function's callback reads its args (second parameter).
    pub args: TableUsage,
    /// What is wrong; empty for a library and function that pass.
    pub diagnostics: Vec<Diagnostic>,
}

impl FunctionAnalysis {
    /// The flags of the function named `function`; all false if it is not registered.
    ///
    /// ```
    /// let analysis = redis_script_analysis::FunctionAnalysis::default();
    /// assert!(!analysis.flags_of("f").no_writes);
    /// ```
    pub fn flags_of(&self, function: &str) -> ShebangFlags {
        self.library
            .as_ref()
            .and_then(|library| library.functions.iter().find(|f| f.name == function))
            .map(|function| function.flags)
            .unwrap_or_default()
    }
}

/// Checks the library `script` for the struct `declaration` that calls its function
/// `function`; see the [module documentation](self).
pub fn analyze_function(
    script: &AssembledScript,
    function: &str,
    declaration: &Declaration,
) -> FunctionAnalysis {
    analyze_function_on(script, function, declaration, Target::DEFAULT)
}

/// [`analyze_function`] for a library that must run on `target` and later versions of that
/// server: its commands are checked against what that server has.
///
/// ```
/// use redis_script_analysis::{AssembledScript, Declaration, Lint, Target, analyze_function_on};
///
/// let library = "#!lua name=hashes\n\
///     redis.register_function('expire', function(keys, args) \
///       return redis.call('HEXPIRE', keys[1], 60, 'FIELDS', 1, 'f') end)";
/// let script = AssembledScript::single("lua/hashes.lua", library);
/// let declaration = Declaration::default();
/// let old = analyze_function_on(&script, "expire", &declaration, Target::DEFAULT);
/// assert!(old.diagnostics.iter().any(|d| d.lint == Lint::CommandNotOnTarget));
/// ```
pub fn analyze_function_on(
    script: &AssembledScript,
    function: &str,
    declaration: &Declaration,
    target: Target,
) -> FunctionAnalysis {
    let source = &script.source;
    let nesting = crate::redis_calls::measure_nesting(source);
    let mut analysis = crate::redis_calls::with_stack_for(nesting.as_ref().ok(), || {
        analyze_here(
            source,
            function,
            declaration,
            target,
            nesting.as_ref().err(),
        )
    });
    crate::checks::apply_allows(&mut analysis.diagnostics, source, declaration);
    crate::checks::locate_in_files(&mut analysis.diagnostics, script);
    analysis
}

fn analyze_here(
    source: &str,
    function: &str,
    declaration: &Declaration,
    server: Target,
    too_deep: Option<&Diagnostic>,
) -> FunctionAnalysis {
    let mut analysis = FunctionAnalysis::default();
    let name = match library_name(source) {
        Ok(name) => Some(name),
        Err(diagnostic) => {
            analysis.diagnostics.push(diagnostic);
            None
        }
    };
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

    let registrations = Registrations::find(&ast, source);
    analysis.diagnostics.extend(registrations.diagnostics);
    let target = registrations
        .functions
        .iter()
        .find(|registered| registered.function.name == function);
    let complete = registrations.complete;
    let flags = target
        .map(|target| target.function.flags)
        .unwrap_or_default();
    // A library without any function is reported as such, not once more per struct.
    if target.is_none() && complete && !registrations.functions.is_empty() {
        analysis.diagnostics.push(unknown_function(
            function,
            &registrations.functions,
            name.as_deref(),
        ));
    }

    // The struct's declaration against the callback's parameters; the slot proof as for
    // scripts, with the function's flags.
    analysis
        .diagnostics
        .extend(crate::check_key_slots(declaration, flags));
    if let Some(body) = target.and_then(|target| target.body) {
        let usages = find_parameter_usages(body);
        let [keys, args] = parameter_names(body);
        // Messages name the tables as the callback does.
        let keys_table = Table::KEYS.of_function(keys.as_deref().unwrap_or("keys"));
        let args_table = Table::ARGV.of_function(args.as_deref().unwrap_or("args"));
        check_table(
            &keys_table,
            &usages.keys,
            &declaration.keys,
            declaration,
            &mut analysis.diagnostics,
        );
        check_table(
            &args_table,
            &usages.args,
            &declaration.args,
            declaration,
            &mut analysis.diagnostics,
        );
        analysis.keys = usages.keys;
        analysis.args = usages.args;
    }
    let callback = target.and_then(|target| target.body).map(walker::body_id);
    analysis.diagnostics.extend(check_library_calls(
        &ast,
        source,
        declaration,
        flags,
        LibraryTarget { callback },
        server,
    ));
    analysis.library = name.map(|name| Library {
        name,
        functions: registrations
            .functions
            .into_iter()
            .map(|registered| registered.function)
            .collect(),
    });
    analysis
}

/// The library's name from its first line, `#!lua name=<library>`, read as Redis 7 reads it.
fn library_name(source: &str) -> Result<String, Diagnostic> {
    let error = |column: usize, message: String, help: &str| {
        Diagnostic::new(
            Lint::InvalidLibrary,
            Some(Location { line: 1, column }),
            message,
            help,
            Blame::Script,
        )
    };
    const EXAMPLE: &str = "start the file with `#!lua name=<library>`, e.g. `#!lua name=bank`";
    let first_line = source.lines().next().unwrap_or_default();
    if !first_line.starts_with("#!") {
        return Err(error(
            1,
            "a function library starts with `#!lua name=<library>`; FUNCTION LOAD refuses \
             this one (\"Missing library metadata\")"
                .to_owned(),
            EXAMPLE,
        ));
    }
    let mut name = None;
    let mut column = 1;
    for (index, word) in first_line.split(' ').enumerate() {
        let word_column = column;
        column += word.chars().count() + 1;
        if word.is_empty() {
            continue;
        }
        if index == 0 {
            if !word.eq_ignore_ascii_case("#!lua") {
                return Err(error(
                    word_column,
                    format!("`{word}` is not an engine Redis knows for functions; it runs `#!lua`"),
                    EXAMPLE,
                ));
            }
            continue;
        }
        let Some(value) = word.strip_prefix("name=") else {
            return Err(error(
                word_column,
                format!(
                    "`{word}` is not library metadata Redis knows (\"Invalid metadata value \
                     given\"); a library's first line has only `name=`"
                ),
                "flags belong to each function: `redis.register_function{function_name = \
                 'f', callback = f, flags = {'no-writes'}}`",
            ));
        };
        if let Err(problem) = valid_name(value) {
            return Err(error(
                word_column + "name=".len(),
                format!("the library name `{value}` {problem}"),
                EXAMPLE,
            ));
        }
        name = Some(value.to_owned());
    }
    name.ok_or_else(|| {
        error(
            1,
            "the first line names no library (\"Library name was not given\")".to_owned(),
            EXAMPLE,
        )
    })
}

/// Redis's rule for library and function names: letters, digits and underscores.
fn valid_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(
            "may only contain letters, digits and underscores, which Redis requires \
                    (\"Library names can only contain letters, numbers, or underscores(_)\")",
        );
    }
    Ok(())
}

/// A registration the analysis could read.
struct Registration<'a> {
    function: RegisteredFunction,
    /// The callback, when it is a function the library defines where it can be seen.
    body: Option<&'a FunctionBody>,
}

struct Registrations<'a> {
    functions: Vec<Registration<'a>>,
    /// Whether every registration was read: otherwise a function not found may still be
    /// registered by one the analysis could not read, and is not reported.
    complete: bool,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Registrations<'a> {
    /// The `redis.register_function` calls at the top level of the library.
    fn find(ast: &'a Ast, source: &'a str) -> Self {
        let mut found = Registrations {
            functions: Vec::new(),
            complete: true,
            diagnostics: Vec::new(),
        };
        // Callbacks defined as top-level local functions, by name.
        let mut callbacks: Vec<(&'a str, &'a FunctionBody)> = Vec::new();
        for statement in ast.nodes().stmts() {
            match statement {
                Stmt::LocalFunction(local) => {
                    if let Some(name) = identifier(local.name()) {
                        callbacks.push((name, local.body()));
                    }
                }
                Stmt::LocalAssignment(local) => {
                    for (name, expression) in local.names().iter().zip(local.expressions().iter()) {
                        if let (Some(name), Expression::Function(function)) =
                            (identifier(name), expression)
                        {
                            callbacks.push((name, function.body()));
                        }
                    }
                }
                Stmt::FunctionCall(call) => {
                    if let Some(arguments) = register_function_arguments(call) {
                        found.read(arguments, &callbacks, source);
                    }
                }
                _ => {}
            }
        }
        if found.functions.is_empty() && found.complete && found.diagnostics.is_empty() {
            found.diagnostics.push(Diagnostic::new(
                Lint::InvalidLibrary,
                None,
                "the library registers no function; FUNCTION LOAD refuses it (\"No functions \
                 registered\")",
                "register each function at the top level, e.g. \
                 `redis.register_function('transfer', transfer)`",
                Blame::Script,
            ));
        }
        found
    }

    fn read(
        &mut self,
        arguments: (&'a FunctionArgs, Location),
        callbacks: &[(&'a str, &'a FunctionBody)],
        source: &str,
    ) {
        let (arguments, location) = arguments;
        let (name, callback, flags) = match arguments {
            FunctionArgs::Parentheses { arguments, .. } if arguments.len() == 1 => {
                match arguments.iter().next() {
                    Some(Expression::TableConstructor(table)) => {
                        match self.table_form(table, location) {
                            Some(parts) => parts,
                            None => return,
                        }
                    }
                    _ => {
                        self.complete = false;
                        return;
                    }
                }
            }
            FunctionArgs::TableConstructor(table) => match self.table_form(table, location) {
                Some(parts) => parts,
                None => return,
            },
            FunctionArgs::Parentheses { arguments, .. } => {
                let mut values = arguments.iter();
                let name = values.next();
                let callback = values.next();
                if values.next().is_some() || callback.is_none() {
                    self.invalid(
                        location,
                        "`redis.register_function` takes a name and a callback, or one table \
                         (\"wrong number of arguments to redis.register_function\")",
                    );
                    return;
                }
                (name, callback, None)
            }
            _ => {
                self.invalid(
                    location,
                    "`redis.register_function` takes a name and a callback, or one table",
                );
                return;
            }
        };
        let Some(name) = name.and_then(string_literal) else {
            self.complete = false;
            return;
        };
        let name_location = location;
        if let Err(problem) = valid_name(&name) {
            self.invalid(
                name_location,
                &format!("the function name `{name}` {problem}"),
            );
            return;
        }
        let flags = match flags {
            Some(flags) => match function_flags(flags) {
                Ok(flags) => flags,
                Err(message) => {
                    self.invalid(location, &message);
                    ShebangFlags::default()
                }
            },
            None => ShebangFlags::default(),
        };
        let body = callback.and_then(|callback| match callback {
            Expression::Function(function) => Some(function.body()),
            Expression::Var(Var::Name(token)) => {
                let wanted = identifier(token)?;
                callbacks
                    .iter()
                    .rev()
                    .find(|(name, _)| *name == wanted)
                    .map(|(_, body)| *body)
            }
            _ => None,
        });
        if let Some(first) = self.functions.iter().find(|f| f.function.name == name) {
            let message = format!(
                "the function `{name}` is registered twice (first at line {}); FUNCTION LOAD \
                 refuses the library (\"Function already exists in the library\")",
                first.function.location.line
            );
            self.invalid(location, &message);
            return;
        }
        let _ = source;
        self.functions.push(Registration {
            function: RegisteredFunction {
                name,
                flags,
                location,
            },
            body,
        });
    }

    /// `{function_name = 'f', callback = f, flags = {...}, description = '...'}`.
    #[allow(clippy::type_complexity)]
    fn table_form(
        &mut self,
        table: &'a TableConstructor,
        location: Location,
    ) -> Option<(
        Option<&'a Expression>,
        Option<&'a Expression>,
        Option<&'a Expression>,
    )> {
        let (mut name, mut callback, mut flags) = (None, None, None);
        for field in table.fields() {
            let TableField::NameKey { key, value, .. } = field else {
                self.invalid(
                    location,
                    "`redis.register_function{...}` takes only named fields: function_name, \
                     callback, flags, description",
                );
                return None;
            };
            match identifier(key) {
                Some("function_name") => name = Some(&**value),
                Some("callback") => callback = Some(&**value),
                Some("flags") => flags = Some(&**value),
                Some("description") => {}
                Some(other) => {
                    let message = format!(
                        "`{other}` is not an argument of `redis.register_function` (\"unknown \
                         argument given to register_function\"); it takes function_name, \
                         callback, flags and description"
                    );
                    self.invalid(location, &message);
                    return None;
                }
                None => return None,
            }
        }
        if name.is_none() || callback.is_none() {
            self.invalid(
                location,
                "`redis.register_function{...}` needs `function_name` and `callback` \
                 (\"redis.register_function must get a function name argument\")",
            );
            return None;
        }
        Some((name, callback, flags))
    }

    fn invalid(&mut self, location: Location, message: &str) {
        self.diagnostics.push(Diagnostic::new(
            Lint::InvalidLibrary,
            Some(location),
            message,
            "register functions as `redis.register_function('name', callback)` or \
             `redis.register_function{function_name = 'name', callback = callback, flags = \
             {'no-writes'}}`",
            Blame::Script,
        ));
    }
}

/// The arguments of a top-level `redis.register_function(...)` / `redis.register_function{...}`
/// statement, and where it starts. Valkey's `server` is the same table as `redis`, so
/// `server.register_function` registers too (whether the target has `server` is the walker's
/// check, `global_not_on_target`).
fn register_function_arguments(
    call: &full_moon::ast::FunctionCall,
) -> Option<(&FunctionArgs, Location)> {
    let Prefix::Name(name) = call.prefix() else {
        return None;
    };
    if !matches!(identifier(name), Some("redis" | "server")) {
        return None;
    }
    let mut suffixes = call.suffixes();
    let member = match suffixes.next()? {
        Suffix::Index(Index::Dot { name, .. }) => identifier(name)?.to_owned(),
        Suffix::Index(Index::Brackets { expression, .. }) => string_literal(expression)?,
        _ => return None,
    };
    if member != "register_function" {
        return None;
    }
    let Suffix::Call(Call::AnonymousCall(arguments)) = suffixes.next()? else {
        return None;
    };
    suffixes
        .next()
        .is_none()
        .then(|| (&**arguments, location_of(name.token())))
}

/// `{'no-writes', 'allow-oom'}`: the flags Redis knows for functions.
fn function_flags(expression: &Expression) -> Result<ShebangFlags, String> {
    let Expression::TableConstructor(table) = expression else {
        return Err("`flags` must be a table of flag names, e.g. flags = {'no-writes'}".to_owned());
    };
    let mut flags = ShebangFlags::default();
    for field in table.fields() {
        let TableField::NoKey(value) = field else {
            return Err("`flags` lists flag names, e.g. flags = {'no-writes'}".to_owned());
        };
        let Some(flag) = string_literal(value) else {
            continue; // not a literal: cannot be checked
        };
        let slot = match flag.as_str() {
            "no-writes" => &mut flags.no_writes,
            "allow-oom" => &mut flags.allow_oom,
            "allow-stale" => &mut flags.allow_stale,
            "no-cluster" => &mut flags.no_cluster,
            "allow-cross-slot-keys" => &mut flags.allow_cross_slot_keys,
            unknown => {
                return Err(format!(
                    "unknown function flag `{unknown}` (\"unknown flag given\"); Redis knows \
                     no-writes, allow-oom, allow-stale, no-cluster, allow-cross-slot-keys"
                ));
            }
        };
        *slot = true;
    }
    Ok(flags)
}

fn unknown_function(
    function: &str,
    registered: &[Registration<'_>],
    library: Option<&str>,
) -> Diagnostic {
    let names: Vec<&str> = registered
        .iter()
        .map(|r| r.function.name.as_str())
        .collect();
    let close: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| crate::redis_calls::edit_distance_within(function, name, 2))
        .collect();
    let suggestion = if close.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            close
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    let library = library.map_or_else(String::new, |name| format!(" `{name}`"));
    Diagnostic::new(
        Lint::UnknownFunction,
        None,
        format!(
            "the library{library} registers no function `{function}`{suggestion} (FCALL would \
             fail with \"Function not found\")"
        ),
        format!(
            "name one of its functions in `function = \"...\"`: {}, or register `{function}` \
             in the library",
            names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Blame::Script,
    )
}

fn string_literal(expression: &Expression) -> Option<String> {
    match expression {
        Expression::String(token) => string_value(token.token_type()),
        _ => None,
    }
}

fn identifier(token: &TokenReference) -> Option<&str> {
    match token.token_type() {
        TokenType::Identifier { identifier } => Some(identifier.as_str()),
        _ => None,
    }
}

fn location_of(token: &Token) -> Location {
    let start = token.start_position();
    Location {
        line: start.line(),
        column: start.character(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Field;

    fn transfer() -> Declaration {
        Declaration {
            name: "Transfer".into(),
            keys: vec![Field::single("from"), Field::single("to")],
            args: vec![Field::single("amount")],
            standalone_only: true,
            ..Declaration::default()
        }
    }

    const BANK: &str = "#!lua name=bank\n\
        local function transfer(accounts, amounts)\n\
        \x20 redis.call('DECRBY', accounts[1], amounts[1])\n\
        \x20 return redis.call('INCRBY', accounts[2], amounts[1])\n\
        end\n\
        redis.register_function('transfer', transfer)\n\
        redis.register_function{function_name = 'balance', callback = function(keys) return redis.call('GET', keys[1]) end, flags = {'no-writes'}}\n";

    fn analyze(source: &str, function: &str, declaration: &Declaration) -> FunctionAnalysis {
        analyze_function(
            &AssembledScript::single("lua/bank.lua", source),
            function,
            declaration,
        )
    }

    fn messages(analysis: &FunctionAnalysis) -> Vec<(Lint, String)> {
        analysis
            .diagnostics
            .iter()
            .map(|diagnostic| (diagnostic.lint, diagnostic.message.clone()))
            .collect()
    }

    #[test]
    fn both_forms_register_with_their_flags() {
        let analysis = analyze(BANK, "transfer", &transfer());
        assert_eq!(messages(&analysis), vec![]);
        let library = analysis.library.clone().unwrap();
        assert_eq!(library.name, "bank");
        let functions: Vec<(&str, bool, usize)> = library
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.flags.no_writes, f.location.line))
            .collect();
        assert_eq!(functions, [("transfer", false, 6), ("balance", true, 7)]);
        assert!(analysis.keys.reads_literal(2) && analysis.args.reads_literal(1));
    }

    #[test]
    fn parameters_are_checked_like_keys_and_argv() {
        let mut declaration = transfer();
        declaration.keys.truncate(1);
        let analysis = analyze(BANK, "transfer", &declaration);
        let found = messages(&analysis);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Lint::KeyIndexOutOfRange);
        assert_eq!(
            analysis.diagnostics[0].location,
            Some(Location {
                line: 4,
                column: 31
            })
        );

        declaration = transfer();
        declaration.args.push(Field::single("memo"));
        let found = messages(&analyze(BANK, "transfer", &declaration));
        assert_eq!(found[0].0, Lint::UnreadArgument, "{found:?}");
    }

    #[test]
    fn valkeys_server_table_registers_too() {
        let source = "#!lua name=counters\n\
            server.register_function('bump', function(keys, args) \
              return server.call('INCRBY', keys[1], args[1]) end)\n";
        let declaration = Declaration {
            name: "Bump".into(),
            keys: vec![Field::single("counter")],
            args: vec![Field::single("by")],
            standalone_only: true,
            ..Declaration::default()
        };
        let script = AssembledScript::single("lua/counters.lua", source);
        let valkey = crate::Target::new(crate::Server::Valkey, crate::Version::new(8, 1));
        let analysis = analyze_function_on(&script, "bump", &declaration, valkey);
        assert!(analysis.diagnostics.is_empty(), "{:?}", messages(&analysis));
        let library = analysis
            .library
            .as_ref()
            .map(|library| library.name.as_str());
        assert_eq!(library, Some("counters"));
        // On Redis the library registers the same function, and `server` is reported.
        let analysis = analyze_function(&script, "bump", &declaration);
        let found = messages(&analysis);
        assert!(
            found
                .iter()
                .all(|(lint, _)| *lint == Lint::GlobalNotOnTarget),
            "{found:?}"
        );
        assert!(!found.is_empty());
    }

    #[test]
    fn keys_and_argv_do_not_exist_in_functions() {
        let source =
            "#!lua name=l\nredis.register_function('f', function(keys) return KEYS[1] end)\n";
        let declaration = Declaration {
            keys: vec![Field::single("k")],
            ..transfer()
        };
        let found = messages(&analyze(
            source,
            "f",
            &Declaration {
                args: vec![],
                ..declaration
            },
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, Lint::UnreadKey);
        assert_eq!(found[1].0, Lint::UnknownGlobal);
        assert!(
            found[1]
                .1
                .starts_with("`KEYS` does not exist in a function library")
        );
    }

    #[test]
    fn what_function_load_refuses() {
        let cases = [
            ("return 1\n", "starts with `#!lua name=<library>`"),
            (
                "#!lua\nredis.register_function('f', function() end)\n",
                "names no library",
            ),
            (
                "#!lua name=my-lib\nredis.register_function('f', function() end)\n",
                "letters, digits and underscores",
            ),
            (
                "#!lua name=l flags=no-writes\nredis.register_function('f', function() end)\n",
                "not library metadata",
            ),
            ("#!lua name=l\nlocal x = 1\n", "registers no function"),
            (
                "#!lua name=l\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)\n",
                "registered twice (first at line 2)",
            ),
            (
                "#!lua name=l\nredis.register_function{function_name = 'f', callback = function() end, flags = {'no-write'}}\n",
                "unknown function flag `no-write`",
            ),
            (
                "#!lua name=l\nredis.register_function{function_name = 'f', callback = function() end, flag = {}}\n",
                "`flag` is not an argument",
            ),
            (
                "#!lua name=l\nredis.call('SET', 'a', 1)\nredis.register_function('f', function() end)\n",
                "outside any function",
            ),
        ];
        let declaration = Declaration::default();
        for (source, expected) in cases {
            let found = messages(&analyze(source, "f", &declaration));
            assert!(
                found
                    .iter()
                    .any(|(lint, message)| *lint == Lint::InvalidLibrary
                        && message.contains(expected)),
                "{source}: {found:?}"
            );
        }
    }

    #[test]
    fn an_unregistered_function_suggests_the_closest() {
        let found = messages(&analyze(BANK, "transfr", &transfer()));
        assert_eq!(found[0].0, Lint::UnknownFunction);
        assert_eq!(
            found[0].1,
            "the library `bank` registers no function `transfr`; did you mean `transfer`? \
             (FCALL would fail with \"Function not found\")"
        );
    }

    #[test]
    fn no_writes_applies_to_its_own_function_only() {
        let source = "#!lua name=l\n\
            redis.register_function{function_name = 'get', callback = function(keys) return redis.call('INCR', keys[1]) end, flags = {'no-writes'}}\n\
            redis.register_function('incr', function(keys) return redis.call('INCR', keys[1]) end)\n";
        let declaration = Declaration {
            keys: vec![Field::single("k")],
            ..Declaration::default()
        };
        assert_eq!(messages(&analyze(source, "incr", &declaration)), vec![]);
        let found = messages(&analyze(source, "get", &declaration));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Lint::WriteInNoWrites);
    }

    #[test]
    fn commands_are_checked_in_every_function() {
        let source = "#!lua name=l\n\
            redis.register_function('a', function(keys) return redis.call('GET', keys[1]) end)\n\
            redis.register_function('b', function(keys) return redis.call('GETT', keys[1]) end)\n";
        let declaration = Declaration {
            keys: vec![Field::single("k")],
            ..Declaration::default()
        };
        let found = messages(&analyze(source, "a", &declaration));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Lint::UnknownCommand);
    }
}
