//! Reading the struct and its `#[redis_script]`, `#[key]` and `#[arg]` attributes.

use proc_macro2::Span;
use redis_script_analysis::{KeyTemplate, Lint, Target};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr, Token, Type};

/// Which derive is reading the struct.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `#[derive(RedisScript)]`, `#[redis_script(path = "...")]`: an EVAL script.
    Script,
    /// `#[derive(RedisFunction)]`, `#[redis_function(library = "...", function = "...")]`: a
    /// function of a Redis 7 function library.
    Function,
}

impl Kind {
    fn derive(self) -> &'static str {
        match self {
            Kind::Script => "RedisScript",
            Kind::Function => "RedisFunction",
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Kind::Script => "redis_script",
            Kind::Function => "redis_function",
        }
    }

    /// The key that names the Lua file.
    fn file_key(self) -> &'static str {
        match self {
            Kind::Script => "path",
            Kind::Function => "library",
        }
    }
}

/// The struct as the derive understands it.
pub struct ScriptStruct<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    /// `path = "..."` (`library = "..."` for a function): the literal, whose span is where file
    /// and script errors point.
    pub path: LitStr,
    /// `function = "..."`: the function of the library that the struct calls.
    pub function: Option<LitStr>,
    /// `returns = T`, if given.
    pub returns: Option<Type>,
    pub keys: Vec<ScriptField<'a>>,
    pub args: Vec<ScriptField<'a>>,
    /// `#[redis_script(standalone_only)]`: the script never runs on a Redis Cluster.
    pub standalone_only: bool,
    /// `extra_commands = ["DELEX", ...]`: commands the command table lacks, accepted
    /// unchecked.
    pub extra_commands: Vec<LitStr>,
    /// `allow(unread_argument, ...)`: lints not reported, each checked to be one that exists
    /// and may be allowed.
    pub allow: Vec<(Ident, Lint)>,
    /// `server = "redis-7.4"`: the oldest server the script must run on, overriding the
    /// crate's `[package.metadata.redis-script]`.
    pub server: Option<Target>,
    /// Every named field, in order: what key templates may name.
    pub fields: Vec<&'a Ident>,
}

/// A `#[key]` or `#[arg]` field.
pub struct ScriptField<'a> {
    pub ident: &'a Ident,
    pub variadic: bool,
    /// `#[key("...")]` / `#[arg("...")]`: the literal (where template errors point) and the
    /// parsed template, whose `{name}` placeholders all name fields of the struct.
    pub template: Option<(LitStr, KeyTemplate)>,
    /// `#[key(unread)]` / `#[arg(unread)]`: sent, but not read by the script on purpose.
    pub unread: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Key,
    Arg,
}

impl Role {
    fn attribute(self) -> &'static str {
        match self {
            Role::Key => "#[key]",
            Role::Arg => "#[arg]",
        }
    }
}

impl<'a> ScriptStruct<'a> {
    pub fn from_input(input: &'a DeriveInput, kind: Kind) -> syn::Result<Self> {
        let fields = match &input.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => return Err(not_a_struct(kind, data.enum_token.span, "an enum")),
            Data::Union(data) => return Err(not_a_struct(kind, data.union_token.span, "a union")),
        };
        let ScriptAttribute {
            path,
            function,
            returns,
            standalone_only,
            extra_commands,
            allow,
            server,
        } = script_attribute(input, kind)?;

        let mut script = ScriptStruct {
            ident: &input.ident,
            generics: &input.generics,
            path,
            function,
            returns,
            keys: Vec::new(),
            args: Vec::new(),
            standalone_only,
            extra_commands,
            allow,
            server,
            fields: Vec::new(),
        };
        let named = match fields {
            Fields::Named(named) => &named.named,
            Fields::Unit => return Ok(script),
            Fields::Unnamed(unnamed) => {
                return Err(syn::Error::new(
                    unnamed.span(),
                    format!(
                        "{} needs named fields, so that each one can be marked #[key] or #[arg]; \
                         write `struct Name {{ #[key] field: T, .. }}` (or a unit struct for a \
                         script with no keys and no args)",
                        kind.derive()
                    ),
                ));
            }
        };

        script.fields = named
            .iter()
            .filter_map(|field| field.ident.as_ref())
            .collect();
        let mut errors = Errors::default();
        // Fields with neither #[key] nor #[arg]: template parameters if a template uses them.
        let mut unmarked: Vec<&Ident> = Vec::new();
        for field in named {
            let Some(ident) = &field.ident else { continue };
            match field_role(&field.attrs) {
                Ok(Some(FieldRole {
                    role,
                    variadic,
                    template,
                    unread,
                })) => {
                    let list = match role {
                        Role::Key => &mut script.keys,
                        Role::Arg => &mut script.args,
                    };
                    list.push(ScriptField {
                        ident,
                        variadic,
                        template,
                        unread,
                    });
                }
                Ok(None) => unmarked.push(ident),
                Err(error) => errors.push(error),
            }
        }
        check_template_fields(&script, named, &mut errors);
        for ident in unmarked {
            let used = script.keys.iter().chain(&script.args).any(|key| {
                key.template.as_ref().is_some_and(|(_, template)| {
                    template
                        .referenced_fields()
                        .any(|name| same_name(name, ident))
                })
            });
            if !used {
                let example = format!("{{{{{{{}}}}}}}:{{}}", ident.unraw());
                errors.push(syn::Error::new(
                    ident.span(),
                    format!(
                        "field `{ident}` is neither #[key] nor #[arg], and no key template uses \
                         it; mark it #[key] to send it in KEYS or #[arg] to send it in ARGV, or \
                         use it in a key template, e.g. #[key(\"{example}\")] on a key"
                    ),
                ));
            }
        }
        for (role, list) in [(Role::Key, &script.keys), (Role::Arg, &script.args)] {
            check_variadic_is_last(role, list, &mut errors);
        }
        errors.finish()?;
        Ok(script)
    }
}

/// The `returns = T` of the struct's attribute, read without reporting anything: for the
/// placeholder implementation of a struct whose derive failed.
pub fn lenient_returns(input: &DeriveInput, kind: Kind) -> Option<Type> {
    let mut returns = None;
    for attribute in input
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident(kind.attribute()))
    {
        let _ = attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("returns") {
                returns = meta.value().and_then(|value| value.parse::<Type>()).ok();
            } else if meta.input.peek(Token![=]) {
                // Skip the value: `path = "..."`, `extra_commands = [...]`.
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _ = meta.parse_nested_meta(|_| Ok(()));
            }
            Ok(())
        });
    }
    returns
}

fn not_a_struct(kind: Kind, span: Span, what: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "{} can only be derived for a struct, not {what}: the struct's #[key] and #[arg] \
             fields are the script's KEYS and ARGV",
            kind.derive()
        ),
    )
}

/// What `#[redis_script(...)]` / `#[redis_function(...)]` says.
struct ScriptAttribute {
    path: LitStr,
    function: Option<LitStr>,
    returns: Option<Type>,
    standalone_only: bool,
    extra_commands: Vec<LitStr>,
    allow: Vec<(Ident, Lint)>,
    server: Option<Target>,
}

/// `#[redis_script(path = "...", returns = T, standalone_only, extra_commands = [...],
/// allow(lint, ...))]`.
fn script_attribute(input: &DeriveInput, kind: Kind) -> syn::Result<ScriptAttribute> {
    let file_key = kind.file_key();
    let attribute_name = kind.attribute();
    let mut path: Option<LitStr> = None;
    let mut function: Option<LitStr> = None;
    let mut returns: Option<Type> = None;
    let mut standalone_only = false;
    let mut extra_commands: Option<Vec<LitStr>> = None;
    let mut allow: Vec<(Ident, Lint)> = Vec::new();
    let mut server: Option<Target> = None;
    let mut seen: Option<&Attribute> = None;
    for attribute in input
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident(attribute_name))
    {
        seen = Some(attribute);
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident(file_key) {
                if path.is_some() {
                    return Err(meta.error(format!("`{file_key}` is given twice; keep one")));
                }
                let value: LitStr = meta.value()?.parse().map_err(|error: syn::Error| {
                    syn::Error::new(
                        error.span(),
                        format!(
                            "`{file_key}` must be a string literal naming the Lua file, e.g. \
                             {file_key} = \"lua/transfer.lua\""
                        ),
                    )
                })?;
                if value.value().is_empty() {
                    return Err(syn::Error::new(
                        value.span(),
                        format!(
                            "`{file_key}` is empty; name the Lua file, e.g. {file_key} = \
                             \"lua/transfer.lua\""
                        ),
                    ));
                }
                path = Some(value);
                Ok(())
            } else if kind == Kind::Function && meta.path.is_ident("function") {
                if function.is_some() {
                    return Err(meta.error("`function` is given twice; keep one"));
                }
                let value: LitStr = meta.value()?.parse().map_err(|error: syn::Error| {
                    syn::Error::new(
                        error.span(),
                        "`function` must be a string literal naming a function the library \
                         registers, e.g. function = \"transfer\"",
                    )
                })?;
                function = Some(value);
                Ok(())
            } else if meta.path.is_ident("returns") {
                if returns.is_some() {
                    return Err(meta.error("`returns` is given twice; keep one"));
                }
                returns = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("standalone_only") {
                if standalone_only {
                    return Err(meta.error("`standalone_only` is given twice; keep one"));
                }
                if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                    return Err(meta.error(
                        "`standalone_only` takes no value: write #[redis_script(standalone_only)]",
                    ));
                }
                standalone_only = true;
                Ok(())
            } else if meta.path.is_ident("extra_commands") {
                if extra_commands.is_some() {
                    return Err(meta.error("`extra_commands` is given twice; keep one"));
                }
                extra_commands = Some(command_list(meta.value()?)?);
                Ok(())
            } else if meta.path.is_ident("server") {
                if server.is_some() {
                    return Err(meta.error("`server` is given twice; keep one"));
                }
                let value: LitStr = meta.value()?.parse().map_err(|error: syn::Error| {
                    syn::Error::new(
                        error.span(),
                        "`server` must be a string literal naming the oldest server the script \
                         must run on, e.g. server = \"redis-7.4\" or server = \"valkey-8.0\"",
                    )
                })?;
                let parsed = value
                    .value()
                    .parse::<Target>()
                    .map_err(|problem| syn::Error::new(value.span(), problem))?;
                server = Some(parsed);
                Ok(())
            } else if meta.path.is_ident("allow") {
                meta.parse_nested_meta(|lint| {
                    let ident = lint
                        .path
                        .get_ident()
                        .ok_or_else(|| lint.error("name a lint, e.g. allow(unread_argument)"))?;
                    let found = Lint::allowable_by_name(&ident.to_string())
                        .map_err(|problem| syn::Error::new(ident.span(), problem))?;
                    if allow.iter().any(|(_, known)| *known == found) {
                        return Err(lint.error(format!("`{ident}` is allowed twice; keep one")));
                    }
                    allow.push((ident.clone(), found));
                    Ok(())
                })
            } else {
                let name = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "this".to_owned(), |ident| format!("`{ident}`"));
                let file = match kind {
                    Kind::Script => "`path = \"lua/file.lua\"`",
                    Kind::Function => "`library = \"lua/library.lua\"`, `function = \"name\"`",
                };
                Err(meta.error(format!(
                    "unknown {attribute_name} attribute {name}; expected {file}, `returns = \
                     Type`, `standalone_only`, `server = \"redis-7.4\"`, `extra_commands = \
                     [\"NAME\", ...]` or `allow(lint_name, ...)`"
                )))
            }
        })?;
    }
    if let (Kind::Function, Some(attribute), None) = (kind, seen, &function) {
        return Err(syn::Error::new_spanned(
            attribute,
            "#[redis_function(...)] has no `function`; name the function the struct calls, e.g. \
             function = \"transfer\"",
        ));
    }
    match path {
        Some(path) => Ok(ScriptAttribute {
            path,
            function,
            returns,
            standalone_only,
            extra_commands: extra_commands.unwrap_or_default(),
            allow,
            server,
        }),
        None => match (seen, kind) {
            (Some(attribute), Kind::Script) => Err(syn::Error::new_spanned(
                attribute,
                "#[redis_script(...)] has no `path`; add path = \"lua/file.lua\" (relative to \
                 Cargo.toml)",
            )),
            (None, Kind::Script) => Err(syn::Error::new(
                input.ident.span(),
                "missing #[redis_script(path = \"lua/file.lua\")] naming the Lua file (relative \
                 to Cargo.toml)",
            )),
            (Some(attribute), Kind::Function) => Err(syn::Error::new_spanned(
                attribute,
                "#[redis_function(...)] has no `library`; add library = \"lua/library.lua\" \
                 (relative to Cargo.toml)",
            )),
            (None, Kind::Function) => Err(syn::Error::new(
                input.ident.span(),
                "missing #[redis_function(library = \"lua/library.lua\", function = \"name\")] \
                 naming the library file (relative to Cargo.toml) and the function",
            )),
        },
    }
}

/// `["DELEX", "DIGEST"]`: string literals naming commands, each one word.
fn command_list(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    const EXPECTED: &str = "`extra_commands` takes a list of command names in string literals, \
                            e.g. extra_commands = [\"HEXPIRE\", \"HGETEX\"]";
    if !input.peek(syn::token::Bracket) {
        return Err(input.error(EXPECTED));
    }
    let content;
    syn::bracketed!(content in input);
    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)
        .map_err(|error| syn::Error::new(error.span(), EXPECTED))?;
    for name in &names {
        let value = name.value();
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "{:?} is not a command name: name one command per string, without spaces \
                     (a subcommand as CONTAINER|SUB, e.g. \"CLIENT|NO-TOUCH\")",
                    value
                ),
            ));
        }
    }
    Ok(names.into_iter().collect())
}

/// What a field's `#[key(...)]` or `#[arg(...)]` says.
struct FieldRole {
    role: Role,
    variadic: bool,
    template: Option<(LitStr, KeyTemplate)>,
    unread: bool,
}

/// One comma-separated option of `#[key(...)]` / `#[arg(...)]`.
enum FieldOption {
    Variadic,
    Unread,
    Template(LitStr),
}

/// A field's `#[key]`, `#[key("template")]`, `#[key(variadic)]`, `#[arg]` or
/// `#[arg(variadic)]` (a template and `variadic` combine).
fn field_role(attributes: &[Attribute]) -> syn::Result<Option<FieldRole>> {
    let mut found: Option<FieldRole> = None;
    for attribute in attributes {
        let role = if attribute.path().is_ident("key") {
            Role::Key
        } else if attribute.path().is_ident("arg") {
            Role::Arg
        } else {
            continue;
        };
        if let Some(previous) = &found {
            let message = if previous.role == role {
                format!("{} is given twice; keep one", role.attribute())
            } else {
                "a field is either #[key] (KEYS) or #[arg] (ARGV), not both".to_owned()
            };
            return Err(syn::Error::new_spanned(attribute, message));
        }
        let mut variadic = false;
        let mut unread = false;
        let mut template: Option<(LitStr, KeyTemplate)> = None;
        if !matches!(attribute.meta, syn::Meta::Path(_)) {
            let options = attribute.parse_args_with(|input: syn::parse::ParseStream<'_>| {
                let mut options = Vec::new();
                while !input.is_empty() {
                    options.push(parse_field_option(input, role)?);
                    if !input.is_empty() {
                        input.parse::<Token![,]>()?;
                    }
                }
                Ok(options)
            })?;
            for option in options {
                match option {
                    FieldOption::Variadic => variadic = true,
                    FieldOption::Unread => unread = true,
                    FieldOption::Template(literal) => {
                        if template.is_some() {
                            return Err(syn::Error::new(
                                literal.span(),
                                format!("a {} has one template; remove this one", role.attribute()),
                            ));
                        }
                        let parsed = KeyTemplate::parse(&literal.value())
                            .map_err(|error| template_syntax_error(&literal, &error))?;
                        template = Some((literal, parsed));
                    }
                }
            }
        }
        found = Some(FieldRole {
            role,
            variadic,
            template,
            unread,
        });
    }
    Ok(found)
}

fn parse_field_option(input: syn::parse::ParseStream<'_>, role: Role) -> syn::Result<FieldOption> {
    if input.peek(LitStr) {
        return Ok(FieldOption::Template(input.parse()?));
    }
    let ident = Ident::parse_any(input)?;
    if ident == "variadic" {
        return Ok(FieldOption::Variadic);
    }
    if ident == "unread" {
        return Ok(FieldOption::Unread);
    }
    let message = match role {
        Role::Key => "unknown option in #[key]; the options are a key template, e.g. \
                      #[key(\"{{user:{}}}:cart\")], `variadic`, for a last field that spreads \
                      into several entries, and `unread`, for a key the script does not read"
            .to_owned(),
        Role::Arg => "unknown option in #[arg]; the options are a template, e.g. \
                      #[arg(\"{{queue:{}}}:\")] for an argument that carries a key prefix, \
                      `variadic`, for a last field that spreads into several entries, and \
                      `unread`, for an argument the script does not read"
            .to_owned(),
    };
    Err(syn::Error::new(ident.span(), message))
}

/// A template that does not parse, with the error's place in the text shown (a span cannot
/// point inside a string literal on stable Rust).
fn template_syntax_error(
    literal: &LitStr,
    error: &redis_script_analysis::TemplateError,
) -> syn::Error {
    let text = literal.value();
    let at = text.get(error.offset..).unwrap_or_default();
    syn::Error::new(
        literal.span(),
        format!(
            "invalid key template \"{text}\": {} (at byte {}: `{at}`)",
            error.message, error.offset
        ),
    )
}

/// Checks each template's `{name}` placeholders against the struct's fields.
fn check_template_fields(
    script: &ScriptStruct<'_>,
    fields: &Punctuated<syn::Field, Token![,]>,
    errors: &mut Errors,
) {
    let names: Vec<&Ident> = fields
        .iter()
        .filter_map(|field| field.ident.as_ref())
        .collect();
    for key in script.keys.iter().chain(&script.args) {
        let Some((literal, template)) = &key.template else {
            continue;
        };
        if !template.uses_own_value() {
            let message = if key.variadic {
                format!(
                    "the template of variadic `{}` has no `{{}}`, so every entry would make the \
                     same key; put `{{}}` where each entry's value goes",
                    key.ident
                )
            } else {
                format!(
                    "the template of `{}` has no `{{}}`, so the field's own value would never be \
                     used; put `{{}}` where it goes, e.g. #[key(\"{}:{{}}\")]",
                    key.ident,
                    literal.value()
                )
            };
            errors.push(syn::Error::new(literal.span(), message));
        }
        for name in template.referenced_fields() {
            let Some(ident) = names.iter().find(|ident| same_name(name, ident)) else {
                let available = names
                    .iter()
                    .map(|ident| format!("`{ident}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                errors.push(syn::Error::new(
                    literal.span(),
                    format!(
                        "the key template names `{{{name}}}`, but `{}` has no field `{name}`; \
                         the fields are {available} (`{{}}` is the value of `{}` itself)",
                        script.ident, key.ident
                    ),
                ));
                continue;
            };
            let variadic = script
                .keys
                .iter()
                .chain(&script.args)
                .any(|field| field.variadic && field.ident == *ident);
            if variadic {
                errors.push(syn::Error::new(
                    literal.span(),
                    format!(
                        "the key template uses `{{{name}}}`, but `{name}` is variadic, a list of \
                         values; a template can only use fields that are one value"
                    ),
                ));
            }
        }
    }
}

/// Whether a template's `{name}` names this field (`r#type` and `type` alike).
pub fn same_name(name: &str, ident: &Ident) -> bool {
    ident.unraw() == name.strip_prefix("r#").unwrap_or(name)
}

fn check_variadic_is_last(role: Role, fields: &[ScriptField<'_>], errors: &mut Errors) {
    let table = match role {
        Role::Key => "KEYS",
        Role::Arg => "ARGV",
    };
    let Some(first) = fields.iter().position(|field| field.variadic) else {
        return;
    };
    if let Some(second) = fields[first + 1..].iter().find(|field| field.variadic) {
        errors.push(syn::Error::new(
            second.ident.span(),
            format!(
                "only one {} field can be variadic, and `{}` already is: {table} cannot be split \
                 between two lists of unknown length\n  help: make one of them a plain {}, or \
                 merge them into one list",
                role.attribute(),
                fields[first].ident,
                role.attribute()
            ),
        ));
    } else if first + 1 != fields.len() {
        errors.push(syn::Error::new(
            fields[first].ident.span(),
            format!(
                "variadic `{}` must be the last {} field, because it takes the rest of {table}; \
                 move it after `{}`",
                fields[first].ident,
                role.attribute(),
                fields[fields.len() - 1].ident
            ),
        ));
    }
}

/// Collects errors so that one compile run reports all of them.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
