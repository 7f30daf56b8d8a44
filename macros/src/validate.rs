//! Loading the Lua file and turning the analysis's diagnostics into spanned compile errors.

use std::path::PathBuf;

use proc_macro2::Span;
use redis_script_analysis::{
    Analysis, Blame, Declaration, Field, REDIS_VERSION, analyze, find_command, script_sha1,
    slot_proof,
};

use crate::parse::{Errors, ScriptField, ScriptStruct};

/// What expansion needs from a script that passed every check.
pub struct CheckedScript {
    /// Absolute path of the Lua file, for `include_str!` (which makes the file a build input).
    pub absolute_path: String,
    pub sha1: String,
    pub analysis: Analysis,
    /// Whether a value can break the slot proof, so that invocations must check their slots.
    pub slot_guard: bool,
}

pub fn check(script: &ScriptStruct<'_>) -> syn::Result<CheckedScript> {
    let (absolute_path, source) = load(script)?;
    let declaration = Declaration {
        name: script.ident.to_string(),
        keys: fields(&script.keys),
        args: fields(&script.args),
        standalone_only: script.standalone_only,
        extra_commands: extra_commands(script)?,
        allow: vec![],
    };
    let analysis = analyze(&source, &declaration);

    let path = script.path.value();
    let mut errors = Errors::default();
    for diagnostic in &analysis.diagnostics {
        let span = match diagnostic.blame {
            Blame::Script => script.path.span(),
            Blame::Struct => script.ident.span(),
            Blame::Key(index) => field_span(&script.keys, index, script),
            Blame::Arg(index) => field_span(&script.args, index, script),
        };
        errors.push(syn::Error::new(span, diagnostic.render(&path)));
    }
    errors.finish()?;

    let flags = analysis.shebang.unwrap_or_default().flags;
    Ok(CheckedScript {
        absolute_path,
        sha1: script_sha1(&source),
        slot_guard: slot_proof::needs_runtime_guard(&declaration, flags),
        analysis,
    })
}

/// The `extra_commands`, each one that the command table does not know: naming a known
/// command there would only switch its checks off.
fn extra_commands(script: &ScriptStruct<'_>) -> syn::Result<Vec<String>> {
    let mut errors = Errors::default();
    let mut names = Vec::with_capacity(script.extra_commands.len());
    for literal in &script.extra_commands {
        let name = literal.value();
        if find_command(&name).is_some() {
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "`{name}` is a command of Redis {REDIS_VERSION}, which the analysis knows and \
                     checks; remove it from `extra_commands` (that list is for commands the \
                     command table lacks, such as those of a newer Redis)",
                ),
            ));
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
        })
        .collect()
}

fn field_span(fields: &[ScriptField<'_>], index: usize, script: &ScriptStruct<'_>) -> Span {
    fields
        .get(index)
        .map_or_else(|| script.ident.span(), |field| field.ident.span())
}

/// Reads the file named by `path`, relative to the crate's `CARGO_MANIFEST_DIR`.
fn load(script: &ScriptStruct<'_>) -> syn::Result<(String, String)> {
    let relative = script.path.value();
    let error = |message: String| syn::Error::new(script.path.span(), message);
    let root = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
        error(format!(
            "cannot resolve `{relative}`: CARGO_MANIFEST_DIR is not set, so this is not a Cargo \
             build; build with cargo"
        ))
    })?;
    let resolved = PathBuf::from(root).join(&relative);
    let shown = resolved.display();

    let bytes = std::fs::read(&resolved).map_err(|cause| {
        error(format!(
            "cannot read the Lua file `{relative}` (resolved to {shown}): {cause}\n  help: `path` \
             is relative to the directory of the crate's Cargo.toml"
        ))
    })?;
    let source = String::from_utf8(bytes).map_err(|cause| {
        let at = cause.utf8_error().valid_up_to();
        let bytes = cause.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        // `before` is valid UTF-8 up to `at`, so its last line counts in characters.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        let byte = bytes.get(at).copied().unwrap_or_default();
        error(format!(
            "the Lua file `{relative}` (resolved to {shown}) is not valid UTF-8: byte 0x{byte:02X} \
             at {line}:{column} (offset {at})\n  help: save the file as UTF-8; write binary data \
             in Lua strings as escapes such as \"\\255\""
        ))
    })?;
    let absolute_path = resolved.to_str().map(str::to_owned).ok_or_else(|| {
        error(format!(
            "the path of the Lua file ({shown}) is not valid UTF-8, which include_str! needs"
        ))
    })?;
    Ok((absolute_path, source))
}
