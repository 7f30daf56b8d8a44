//! Reading the struct and its `#[redis_script]`, `#[key]` and `#[arg]` attributes.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr, Type};

/// The struct as the derive understands it.
pub struct ScriptStruct<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    /// `path = "..."`: the literal, whose span is where file and script errors point.
    pub path: LitStr,
    /// `returns = T`, if given.
    pub returns: Option<Type>,
    pub keys: Vec<ScriptField<'a>>,
    pub args: Vec<ScriptField<'a>>,
}

/// A `#[key]` or `#[arg]` field.
pub struct ScriptField<'a> {
    pub ident: &'a Ident,
    pub variadic: bool,
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
    pub fn from_input(input: &'a DeriveInput) -> syn::Result<Self> {
        let fields = match &input.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => return Err(not_a_struct(data.enum_token.span, "an enum")),
            Data::Union(data) => return Err(not_a_struct(data.union_token.span, "a union")),
        };
        let (path, returns) = script_attribute(input)?;

        let mut script = ScriptStruct {
            ident: &input.ident,
            generics: &input.generics,
            path,
            returns,
            keys: Vec::new(),
            args: Vec::new(),
        };
        let named = match fields {
            Fields::Named(named) => &named.named,
            Fields::Unit => return Ok(script),
            Fields::Unnamed(unnamed) => {
                return Err(syn::Error::new(
                    unnamed.span(),
                    "RedisScript needs named fields, so that each one can be marked #[key] or \
                     #[arg]; write `struct Name { #[key] field: T, .. }` (or a unit struct for a \
                     script with no keys and no args)",
                ));
            }
        };

        let mut errors = Errors::default();
        for field in named {
            let Some(ident) = &field.ident else { continue };
            match field_role(&field.attrs) {
                Ok(Some((role, variadic))) => {
                    let list = match role {
                        Role::Key => &mut script.keys,
                        Role::Arg => &mut script.args,
                    };
                    list.push(ScriptField {
                        ident,
                        variadic,
                    });
                }
                Ok(None) => errors.push(syn::Error::new(
                    ident.span(),
                    format!(
                        "field `{ident}` is neither #[key] nor #[arg]; mark it #[key] to send it \
                         in KEYS or #[arg] to send it in ARGV"
                    ),
                )),
                Err(error) => errors.push(error),
            }
        }
        for (role, list) in [(Role::Key, &script.keys), (Role::Arg, &script.args)] {
            check_variadic_is_last(role, list, &mut errors);
        }
        errors.finish()?;
        Ok(script)
    }
}

fn not_a_struct(span: Span, what: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "RedisScript can only be derived for a struct, not {what}: the struct's #[key] and \
             #[arg] fields are the script's KEYS and ARGV"
        ),
    )
}

/// `#[redis_script(path = "...", returns = T)]`.
fn script_attribute(input: &DeriveInput) -> syn::Result<(LitStr, Option<Type>)> {
    let mut path: Option<LitStr> = None;
    let mut returns: Option<Type> = None;
    let mut seen = false;
    for attribute in input
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident("redis_script"))
    {
        seen = true;
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("path") {
                if path.is_some() {
                    return Err(meta.error("`path` is given twice; keep one"));
                }
                let value: LitStr = meta.value()?.parse()?;
                if value.value().is_empty() {
                    return Err(syn::Error::new(
                        value.span(),
                        "`path` is empty; name the Lua file, e.g. path = \"lua/transfer.lua\"",
                    ));
                }
                path = Some(value);
                Ok(())
            } else if meta.path.is_ident("returns") {
                if returns.is_some() {
                    return Err(meta.error("`returns` is given twice; keep one"));
                }
                returns = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                let name = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "this".to_owned(), |ident| format!("`{ident}`"));
                Err(meta.error(format!(
                    "unknown redis_script attribute {name}; expected `path = \"lua/file.lua\"` \
                     or `returns = Type`"
                )))
            }
        })?;
    }
    match path {
        Some(path) => Ok((path, returns)),
        None => {
            let message = if seen {
                "#[redis_script(...)] has no `path`; add path = \"lua/file.lua\" (relative to \
                 Cargo.toml)"
            } else {
                "missing #[redis_script(path = \"lua/file.lua\")] naming the Lua file (relative \
                 to Cargo.toml)"
            };
            Err(syn::Error::new(input.ident.span(), message))
        }
    }
}

/// A field's `#[key]`, `#[key(variadic)]`, `#[arg]` or `#[arg(variadic)]`.
fn field_role(attributes: &[Attribute]) -> syn::Result<Option<(Role, bool)>> {
    let mut found: Option<(Role, bool, Span)> = None;
    for attribute in attributes {
        let role = if attribute.path().is_ident("key") {
            Role::Key
        } else if attribute.path().is_ident("arg") {
            Role::Arg
        } else {
            continue;
        };
        if let Some((previous, _, _)) = found {
            let message = if previous == role {
                format!("{} is given twice; keep one", role.attribute())
            } else {
                "a field is either #[key] (KEYS) or #[arg] (ARGV), not both".to_owned()
            };
            return Err(syn::Error::new(attribute.span(), message));
        }
        let mut variadic = false;
        if !matches!(attribute.meta, syn::Meta::Path(_)) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("variadic") {
                    variadic = true;
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown option in {}; the only option is `variadic`, for a last \
                         field that spreads into several entries",
                        role.attribute()
                    )))
                }
            })?;
        }
        found = Some((role, variadic, attribute.span()));
    }
    Ok(found.map(|(role, variadic, _)| (role, variadic)))
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
                 between two lists of unknown length",
                role.attribute(),
                fields[first].ident
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
