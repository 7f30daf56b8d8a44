//! Loading the Lua file and turning the analysis's diagnostics into spanned compile errors.

use std::path::PathBuf;

use proc_macro2::Span;
use redis_script_analysis::{
    AssembledScript, Blame, Declaration, Field, Lint, ReturnsShape, ScriptFiles, Server,
    ShebangFlags, Target, analyze_function_on, analyze_script_on, assemble_script, find_command,
    script_sha1, slot_proof,
};
use syn::spanned::Spanned;

use crate::parse::{Errors, ScriptField, ScriptStruct};

/// What expansion needs from a script that passed every check.
pub struct CheckedScript {
    /// The script as sent: the file with its includes inlined.
    pub script: AssembledScript,
    /// Absolute path of every file read, for `include_bytes!`, which makes each a build input.
    pub tracked_files: Vec<String>,
    pub sha1: String,
    /// The script's shebang flags, or the function's `register_function` flags.
    pub flags: ShebangFlags,
    /// For a function: the name of its library (`#!lua name=...`).
    pub library: Option<String>,
    /// Whether a value can break the slot proof, so that invocations must check their slots.
    pub slot_guard: bool,
    /// Whether the script may reply an error of its own words (see
    /// [`redis_script_analysis::may_reply_own_error`]).
    pub may_reply_own_error: bool,
    /// Diagnostics of lints that warn ([`Lint::warns`]): shown, but the build goes on.
    pub warnings: Vec<Warning>,
}

/// A diagnostic shown as a compiler warning, at the attribute or field at fault.
pub struct Warning {
    pub lint: Lint,
    pub span: proc_macro2::Span,
    pub message: String,
}

pub fn check(script: &ScriptStruct<'_>) -> syn::Result<CheckedScript> {
    let path = script.path.value();
    let mut files = CrateFiles::new(script)?;
    // The struct's `server = "..."`, else the crate's (a build input then), else Redis 7.0.
    let (target, manifest) = match script.server {
        Some(target) => (target, None),
        None => crate::target::crate_target(&files.root, script.ident.span())?,
    };
    let assembled = assemble_script(&path, &mut files);
    let declaration = Declaration {
        name: script.ident.to_string(),
        keys: fields(&script.keys),
        args: fields(&script.args),
        standalone_only: script.standalone_only,
        extra_commands: extra_commands(script, target)?,
        allow: script.allow.iter().map(|(_, lint)| *lint).collect(),
        returns: script
            .returns
            .as_ref()
            .map_or(ReturnsShape::Value, returns_shape),
    };
    let mut library = None;
    let mut flags = ShebangFlags::default();
    let diagnostics = match (&assembled, &script.function) {
        (Ok(assembled), None) => {
            let analysis = analyze_script_on(assembled, &declaration, target);
            flags = analysis.shebang.unwrap_or_default().flags;
            analysis.diagnostics
        }
        (Ok(assembled), Some(function)) => {
            let analysis = analyze_function_on(assembled, &function.value(), &declaration, target);
            flags = analysis.flags_of(&function.value());
            library = analysis.library.map(|library| library.name);
            analysis.diagnostics
        }
        (Err(diagnostics), _) => diagnostics.clone(),
    };

    let attribute = if script.function.is_some() {
        "redis_function"
    } else {
        "redis_script"
    };
    let mut errors = Errors::default();
    let mut warnings = Vec::new();
    for diagnostic in &diagnostics {
        let mut diagnostic = diagnostic.clone();
        if let Some(origin) = &mut diagnostic.origin {
            origin.file = files.shown(&origin.file);
            for (including, _) in &mut origin.included_from {
                *including = files.shown(including);
            }
        }
        let span = match (diagnostic.blame, &script.function) {
            // The function the struct names is not in the library: point at the name.
            (_, Some(function)) if diagnostic.lint == Lint::UnknownFunction => function.span(),
            (blame, _) => blame_span(blame, script),
        };
        let message = diagnostic.render_for(&files.shown(&path), attribute);
        if diagnostic.lint.warns() {
            warnings.push(Warning {
                lint: diagnostic.lint,
                span,
                message,
            });
        } else {
            errors.push(syn::Error::new(span, message));
        }
    }
    errors.finish()?;
    let Ok(assembled) = assembled else {
        // Unreachable: a script that did not assemble has diagnostics.
        return Err(syn::Error::new(
            script.path.span(),
            "the Lua file could not be read",
        ));
    };

    let unproven_slots_allowed = declaration.allow.contains(&Lint::UnprovenKeySlots);
    let mut tracked_files = files.absolute_paths(&assembled.files)?;
    tracked_files.extend(manifest);
    let may_reply_own_error = redis_script_analysis::may_reply_own_error(&assembled.source);
    Ok(CheckedScript {
        tracked_files,
        sha1: script_sha1(&assembled.source),
        // Keys whose slots the derive could not prove are checked at run time instead.
        slot_guard: slot_proof::needs_runtime_guard(&declaration, flags)
            || (unproven_slots_allowed && !declaration.standalone_only && !flags.no_cluster),
        script: assembled,
        flags,
        library,
        may_reply_own_error,
        warnings,
    })
}

/// The crate's files, read relative to `CARGO_MANIFEST_DIR` as the derive must.
struct CrateFiles {
    /// `CARGO_MANIFEST_DIR`.
    root: PathBuf,
}

impl CrateFiles {
    fn new(script: &ScriptStruct<'_>) -> syn::Result<Self> {
        let root = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
            syn::Error::new(
                script.path.span(),
                format!(
                    "cannot resolve `{}`: CARGO_MANIFEST_DIR is not set, so this is not a Cargo \
                     build; build with cargo",
                    script.path.value()
                ),
            )
        })?;
        Ok(CrateFiles {
            root: PathBuf::from(root),
        })
    }

    fn resolve(&self, path: &str) -> PathBuf {
        // `/`-separated relative paths, joined component by component for this platform.
        path.split('/')
            .fold(self.root.clone(), |resolved, part| resolved.join(part))
    }

    fn absolute_paths(&self, files: &[String]) -> syn::Result<Vec<String>> {
        files
            .iter()
            .map(|file| {
                let resolved = self.resolve(file);
                resolved.to_str().map(str::to_owned).ok_or_else(|| {
                    syn::Error::new(
                        Span::call_site(),
                        format!(
                            "the path of the Lua file {} is not valid UTF-8, which \
                             include_bytes! needs",
                            resolved.display()
                        ),
                    )
                })
            })
            .collect()
    }
}

impl CrateFiles {
    /// `path` (relative to the crate) as messages show it: relative to the directory the
    /// compiler runs in, the workspace's root under cargo, so that a terminal or editor that
    /// opens `path:line:col` finds the file from there.
    fn shown(&self, path: &str) -> String {
        let prefix = std::env::current_dir()
            .ok()
            .and_then(|directory| {
                self.root
                    .strip_prefix(&directory)
                    .ok()
                    .map(|prefix| prefix.to_path_buf())
            })
            .and_then(|prefix| prefix.to_str().map(|prefix| prefix.replace('\\', "/")));
        match prefix {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}/{path}"),
            _ => path.to_owned(),
        }
    }
}

impl ScriptFiles for CrateFiles {
    fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.resolve(path))
    }

    fn describe(&self, path: &str) -> String {
        self.resolve(path).display().to_string()
    }
}

/// The `extra_commands`, each one that the command table does not know: naming a known
/// command there would only switch its checks off, and one the table knows for a newer server
/// than `target` is a reason to raise the target instead.
fn extra_commands(script: &ScriptStruct<'_>, target: Target) -> syn::Result<Vec<String>> {
    let mut errors = Errors::default();
    let mut names = Vec::with_capacity(script.extra_commands.len());
    for literal in &script.extra_commands {
        let name = literal.value();
        let (container, sub) = match name.split_once('|') {
            Some((container, sub)) => (container, Some(sub)),
            None => (name.as_str(), None),
        };
        let known = find_command(container).and_then(|command| match sub {
            Some(sub) => command.subcommand(sub),
            None => Some(command),
        });
        if let Some(command) = known {
            let problem = if command.available_on(target) {
                format!(
                    "`{name}` is a command of {target}, which the analysis knows and checks; \
                     remove it from `extra_commands` (that list is for commands of modules and \
                     of servers the command table does not cover)"
                )
            } else {
                let known_on = [Server::Redis, Server::Valkey]
                    .into_iter()
                    .filter_map(|server| {
                        let since = command.since.of(server)?;
                        Some(format!("{server} since {since}"))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let raised = command
                    .since
                    .of(target.server)
                    .map(|since| Target::new(target.server, since))
                    .or_else(|| {
                        let other = match target.server {
                            Server::Redis => Server::Valkey,
                            Server::Valkey => Server::Redis,
                        };
                        command
                            .since
                            .of(other)
                            .map(|since| Target::new(other, since.max(other.oldest())))
                    });
                let raise = raised.map_or_else(String::new, |raised| {
                    format!(
                        ": if every server the crate runs on has it, raise the minimum server \
                         instead, with `[package.metadata.redis-script] server = \"{raised}\"` \
                         in Cargo.toml or server = \"{raised}\" here"
                    )
                });
                format!(
                    "`{name}` is in the command table ({known_on}), but not on {target}, the \
                     oldest server this struct must run on; `extra_commands` would only switch \
                     its checks off{raise}"
                )
            };
            errors.push(syn::Error::new(literal.span(), problem));
        }
        names.push(name);
    }
    errors.finish()?;
    Ok(names)
}

fn fields(fields: &[ScriptField<'_>]) -> Vec<Field> {
    fields
        .iter()
        .map(|field| Field {
            name: field.ident.to_string(),
            variadic: field.variadic,
            template: field
                .template
                .as_ref()
                .map(|(_, template)| template.clone()),
            unread: field.unread,
        })
        .collect()
}

fn blame_span(blame: Blame, script: &ScriptStruct<'_>) -> Span {
    match blame {
        Blame::Script => script.path.span(),
        Blame::Struct => script.ident.span(),
        Blame::Key(index) => field_span(&script.keys, index, script),
        Blame::Arg(index) => field_span(&script.args, index, script),
        Blame::Returns => script
            .returns
            .as_ref()
            .map_or_else(|| script.path.span(), |returns| returns.span()),
    }
}

/// What the `returns` type can hold, read from its tokens: the standard types `redis`
/// converts replies to, by name; anything else (an alias, a type of the crate) is `Unknown`,
/// which the analysis does not check.
fn returns_shape(returns: &syn::Type) -> ReturnsShape {
    match returns {
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => ReturnsShape::Unit,
        syn::Type::Tuple(_) => ReturnsShape::Tuple,
        syn::Type::Paren(inner) => returns_shape(&inner.elem),
        syn::Type::Group(inner) => returns_shape(&inner.elem),
        syn::Type::Path(path) if path.qself.is_none() => path_shape(&path.path),
        _ => ReturnsShape::Unknown,
    }
}

fn path_shape(path: &syn::Path) -> ReturnsShape {
    let names: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let Some(last) = path.segments.last() else {
        return ReturnsShape::Unknown;
    };
    // The path before the type's name: none, or the standard library's own.
    let std_path = |modules: &[&[&str]]| {
        let prefix = &names[..names.len() - 1];
        prefix.is_empty()
            || modules
                .iter()
                .any(|module| prefix.iter().map(String::as_str).eq(module.iter().copied()))
    };
    let plain = matches!(last.arguments, syn::PathArguments::None);
    match names.last().map(String::as_str) {
        Some(
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
            | "usize",
        ) if plain && std_path(&[&["std", "primitive"], &["core", "primitive"]]) => {
            ReturnsShape::Integer
        }
        Some("f32" | "f64")
            if plain && std_path(&[&["std", "primitive"], &["core", "primitive"]]) =>
        {
            ReturnsShape::Float
        }
        Some("bool") if plain && std_path(&[&["std", "primitive"], &["core", "primitive"]]) => {
            ReturnsShape::Bool
        }
        Some("String") if plain && std_path(&[&["std", "string"], &["alloc", "string"]]) => {
            ReturnsShape::Text
        }
        Some("Value") if plain && names.len() >= 2 && names[names.len() - 2] == "redis" => {
            ReturnsShape::Value
        }
        Some("Option") if std_path(&[&["std", "option"], &["core", "option"]]) => {
            match single_type_argument(&last.arguments).map(returns_shape) {
                Some(
                    ReturnsShape::Integer
                    | ReturnsShape::Float
                    | ReturnsShape::Bool
                    | ReturnsShape::Text,
                ) => ReturnsShape::OptionalScalar,
                Some(_) => ReturnsShape::Optional,
                None => ReturnsShape::Unknown,
            }
        }
        Some("Vec") if std_path(&[&["std", "vec"], &["alloc", "vec"]]) => ReturnsShape::Collection,
        Some("HashMap" | "HashSet")
            if std_path(&[
                &["std", "collections"],
                &["std", "collections", "hash_map"],
                &["std", "collections", "hash_set"],
            ]) =>
        {
            ReturnsShape::Collection
        }
        Some("BTreeMap" | "BTreeSet")
            if std_path(&[&["std", "collections"], &["alloc", "collections"]]) =>
        {
            ReturnsShape::Collection
        }
        _ => ReturnsShape::Unknown,
    }
}

fn single_type_argument(arguments: &syn::PathArguments) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(arguments) = arguments else {
        return None;
    };
    match arguments.args.first() {
        Some(syn::GenericArgument::Type(argument)) if arguments.args.len() == 1 => Some(argument),
        _ => None,
    }
}

fn field_span(fields: &[ScriptField<'_>], index: usize, script: &ScriptStruct<'_>) -> Span {
    fields
        .get(index)
        .map_or_else(|| script.ident.span(), |field| field.ident.span())
}
