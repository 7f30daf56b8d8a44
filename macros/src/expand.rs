//! Writing the `Script` implementation and the inherent `invoke` methods.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use redis_script_analysis::{KeyTemplate, TemplatePiece};
use syn::Ident;

use crate::parse::{Kind, ScriptField, ScriptStruct, lenient_returns, same_name};
use crate::validate::CheckedScript;

pub fn expand(script: &ScriptStruct<'_>, checked: &CheckedScript) -> TokenStream {
    let ident = script.ident;
    let name = ident.to_string();
    let path = &script.path;
    // The source once. A script that is its file byte for byte is that file (which also makes
    // it a build input); an assembled one is a literal, and each of its files a build input:
    // editing any of them rebuilds the crate.
    let source_constant = match checked.tracked_files.as_slice() {
        [file] if checked.script.verbatim => {
            quote!(
                const __REDIS_SCRIPT_SOURCE: &str = ::core::include_str!(#file);
            )
        }
        tracked_files => {
            let source = &checked.script.source;
            quote! {
                const __REDIS_SCRIPT_SOURCE: &str = #source;
                #(const _: &[u8] = ::core::include_bytes!(#tracked_files);)*
            }
        }
    };
    // A script of one file needs no map: every line is the file's own.
    let source_map = if checked.script.files.len() > 1 {
        let segments = checked.script.segments.iter().map(|segment| {
            let first_line = segment.first_line;
            let file = &checked.script.files[segment.file];
            let first_original_line = segment.first_original_line;
            quote!(::redis_script::SourceSegment {
                first_line: #first_line,
                path: #file,
                first_original_line: #first_original_line,
            })
        });
        quote!(&[#(#segments),*])
    } else {
        quote!(&[])
    };
    // ARGV positions whose templates carry a hash tag: the slot guard checks them with the keys.
    let slot_args: Vec<usize> = script
        .args
        .iter()
        .enumerate()
        .filter(|(_, field)| {
            !field.variadic
                && field.template.as_ref().is_some_and(|(_, template)| {
                    matches!(
                        template.hash_tag(&field.ident.to_string()),
                        redis_script_analysis::HashTag::Tag(_)
                    )
                })
        })
        .map(|(position, _)| position)
        .collect();
    let slot_args = if slot_args.is_empty() {
        TokenStream::new()
    } else {
        quote!(const SLOT_ARGS: &'static [usize] = &[#(#slot_args),*];)
    };
    let output = script
        .returns
        .as_ref()
        .map_or_else(|| quote!(::redis_script::redis::Value), |ty| quote!(#ty));
    let (impl_generics, type_generics, where_clause) = script.generics.split_for_impl();

    let key_names = script.keys.iter().map(|field| field.ident.to_string());
    let key_templates = script.keys.iter().map(|field| match &field.template {
        Some((literal, _)) => quote!(::core::option::Option::Some(#literal)),
        None => quote!(::core::option::Option::None),
    });
    let standalone_only = script.standalone_only;
    let slot_guard = checked.slot_guard;
    let arg_names = script.args.iter().map(|field| field.ident.to_string());
    let flags = checked.flags;
    let (no_writes, allow_oom, allow_stale, no_cluster, allow_cross_slot_keys) = (
        flags.no_writes,
        flags.allow_oom,
        flags.allow_stale,
        flags.no_cluster,
        flags.allow_cross_slot_keys,
    );
    let flags = if checked.flags == redis_script_analysis::ShebangFlags::NONE {
        quote!(::redis_script::ShebangFlags::NONE)
    } else {
        quote!(::redis_script::ShebangFlags {
            no_writes: #no_writes,
            allow_oom: #allow_oom,
            allow_stale: #allow_stale,
            no_cluster: #no_cluster,
            allow_cross_slot_keys: #allow_cross_slot_keys,
        })
    };

    let arity_checks = script
        .keys
        .iter()
        .chain(&script.args)
        // A template makes exactly one argument per key, whatever the field's type; a variadic
        // field is checked entry by entry where it is counted and pushed (`variadic_entries`).
        .filter(|field| !field.variadic && field.template.is_none())
        .map(|field| {
            let member = field.ident;
            // Spanned at the field, so an unfit type is reported there.
            quote_spanned! {member.span()=>
                ::redis_script::__private::single_argument(&self.#member);
            }
        });
    let key_count = key_count(&script.keys);
    let pushes = script
        .keys
        .iter()
        .chain(&script.args)
        .map(|field| push(field, script));

    // What differs between a script and a function of a library: the trait, how the file is
    // registered, and the constants that name what runs.
    let (trait_path, invoke_async_path, registration, specific) =
        match (&script.function, &checked.library) {
            (Some(function), Some(library)) => (
                quote!(::redis_script::Function),
                quote!(::redis_script::__private::invoke_function_async),
                quote! {
                    ::redis_script::RegisteredLibrary {
                        name: #library,
                        path: #path,
                        source: __REDIS_SCRIPT_SOURCE,
                        source_map: #source_map,
                    }
                },
                quote! {
                    const LIBRARY: &'static str = #library;
                    const FUNCTION: &'static str = #function;
                },
            ),
            _ => {
                let sha1 = &checked.sha1;
                (
                    quote!(::redis_script::Script),
                    quote!(::redis_script::__private::invoke_async),
                    quote! {
                        ::redis_script::RegisteredScript {
                            name: #name,
                            path: #path,
                            sha1: #sha1,
                            source: __REDIS_SCRIPT_SOURCE,
                            flags: #flags,
                            source_map: #source_map,
                        }
                    },
                    quote!(const SHA1: &'static str = #sha1;),
                )
            }
        };
    let (what, documented_trait) = match &script.function {
        Some(function) => (
            format!("the function `{}` of `{}`", function.value(), path.value()),
            "redis_script::Function",
        ),
        None => (format!("`{}`", path.value()), "redis_script::Script"),
    };
    let doc_invoke =
        format!("Runs {what} on a synchronous connection; see [`{documented_trait}::invoke`].");
    let doc_invoke_async = format!(
        "Runs {what} on an asynchronous connection, as a `Send` future; see \
         [`{documented_trait}::invoke_async`]."
    );
    let inherent = inherent_methods(
        ident,
        script.generics,
        &output,
        &trait_path,
        &invoke_async_path,
        (&doc_invoke, &doc_invoke_async),
    );

    let warnings = warnings(checked);
    let may_reply_own_error = checked.may_reply_own_error;
    quote! {
        // One block, so that the source is written once and its name is private.
        const _: () = {
        #source_constant
        #warnings

        // Lists the script (or library) at link time. Constants only, so that generic structs
        // register too.
        ::redis_script::__private::inventory::submit! { #registration }

        impl #impl_generics #trait_path for #ident #type_generics #where_clause {
            type Output = #output;
            const NAME: &'static str = #name;
            const PATH: &'static str = #path;
            const SOURCE: &'static str = __REDIS_SCRIPT_SOURCE;
            #specific
            const KEY_FIELDS: &'static [&'static str] = &[#(#key_names),*];
            const ARG_FIELDS: &'static [&'static str] = &[#(#arg_names),*];
            const KEY_TEMPLATES: &'static [::core::option::Option<&'static str>] =
                &[#(#key_templates),*];
            const STANDALONE_ONLY: bool = #standalone_only;
            const SLOT_GUARD: bool = #slot_guard;
            const MAY_REPLY_OWN_ERROR: bool = #may_reply_own_error;
            #slot_args
            const FLAGS: ::redis_script::ShebangFlags = #flags;

            #[inline]
            fn write_keys_and_args(
                &self,
                command: &mut ::redis_script::__private::Cmd,
            ) {
                #(#arity_checks)*
                command.arg(#key_count);
                #(#pushes)*
            }
        }

        #inherent
        };
    }
}

/// What a struct whose derive failed still gets: the trait with placeholder constants and the
/// inherent methods, so that code calling them reports no error of its own. It never runs: the
/// crate does not compile.
pub fn fallback(input: &syn::DeriveInput, kind: Kind) -> TokenStream {
    if !matches!(input.data, syn::Data::Struct(_)) {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let output = lenient_returns(input, kind)
        .map_or_else(|| quote!(::redis_script::redis::Value), |ty| quote!(#ty));
    let (trait_path, invoke_async_path, specific) = match kind {
        Kind::Script => (
            quote!(::redis_script::Script),
            quote!(::redis_script::__private::invoke_async),
            quote!(
                const SHA1: &'static str = "";
            ),
        ),
        Kind::Function => (
            quote!(::redis_script::Function),
            quote!(::redis_script::__private::invoke_function_async),
            quote! {
                const LIBRARY: &'static str = "";
                const FUNCTION: &'static str = "";
            },
        ),
    };
    let inherent = inherent_methods(
        ident,
        &input.generics,
        &output,
        &trait_path,
        &invoke_async_path,
        ("", ""),
    );
    quote! {
        impl #impl_generics #trait_path for #ident #type_generics #where_clause {
            type Output = #output;
            const NAME: &'static str = "";
            const PATH: &'static str = "";
            const SOURCE: &'static str = "";
            #specific
            const KEY_FIELDS: &'static [&'static str] = &[];
            const ARG_FIELDS: &'static [&'static str] = &[];
            const KEY_TEMPLATES: &'static [::core::option::Option<&'static str>] = &[];
            const STANDALONE_ONLY: bool = true;
            const FLAGS: ::redis_script::ShebangFlags = ::redis_script::ShebangFlags::NONE;
            fn write_keys_and_args(&self, _: &mut ::redis_script::__private::Cmd) {}
        }

        #inherent
    }
}

/// The inherent `invoke` and `invoke_async`, which call the trait's, so that calling a script
/// needs no trait import.
fn inherent_methods(
    ident: &Ident,
    generics: &syn::Generics,
    output: &TokenStream,
    trait_path: &TokenStream,
    invoke_async_path: &TokenStream,
    (doc_invoke, doc_invoke_async): (&str, &str),
) -> TokenStream {
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    // Everything the returned future may hold: RPIT must name every type parameter in scope,
    // and `use<..>` lists lifetimes first.
    let captured_lifetimes = generics.lifetimes().map(|param| &param.lifetime);
    let captured_types = generics
        .type_params()
        .map(|param| &param.ident)
        .chain(generics.const_params().map(|param| &param.ident));
    quote! {
        impl #impl_generics #ident #type_generics #where_clause {
            #[doc = #doc_invoke]
            #[inline]
            pub fn invoke<__RedisScriptConnection>(
                &self,
                connection: &mut __RedisScriptConnection,
            ) -> ::core::result::Result<#output, ::redis_script::Error>
            where
                __RedisScriptConnection:
                    ::redis_script::redis::ConnectionLike + ?::core::marker::Sized,
            {
                <Self as #trait_path>::invoke(self, connection)
            }

            #[doc = #doc_invoke_async]
            #[inline]
            pub fn invoke_async<'__redis_script_connection, __RedisScriptConnection>(
                &self,
                connection: &'__redis_script_connection mut __RedisScriptConnection,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<#output, ::redis_script::Error>,
            > + ::core::marker::Send
                + use<
                    '__redis_script_connection,
                    #(#captured_lifetimes,)*
                    __RedisScriptConnection
                    #(, #captured_types)*
                >
            where
                __RedisScriptConnection:
                    ::redis_script::redis::aio::ConnectionLike + ::core::marker::Send,
            {
                #invoke_async_path::<Self, __RedisScriptConnection>(self, connection)
            }
        }
    }
}

/// `numkeys`: a string literal when no key is variadic, so nothing is formatted per call.
fn key_count(keys: &[ScriptField<'_>]) -> TokenStream {
    let fixed = keys.iter().filter(|field| !field.variadic).count();
    match keys.iter().find(|field| field.variadic) {
        None => {
            let literal = fixed.to_string();
            quote!(#literal)
        }
        Some(variadic) if variadic.template.is_some() => {
            let member = variadic.ident;
            quote_spanned!(member.span()=>
                #fixed + ::redis_script::__private::template_entries(&self.#member).len()
            )
        }
        Some(variadic) => {
            let member = variadic.ident;
            quote_spanned!(member.span()=>
                #fixed + ::redis_script::__private::variadic_entries(&self.#member).len()
            )
        }
    }
}

/// Appends one field: as it is, or rendered from its key template straight into the command's
/// buffer (`format_args!`: no `String` per call). A variadic templated key renders the template
/// once per entry, `{}` being the entry.
fn push(field: &ScriptField<'_>, script: &ScriptStruct<'_>) -> TokenStream {
    let member = field.ident;
    let entry = Ident::new("__redis_script_entry", proc_macro2::Span::mixed_site());
    let Some((_, template)) = &field.template else {
        if !field.variadic {
            return quote!(command.arg(&self.#member););
        }
        // Entry by entry, each one argument, as `key_count` counted them.
        let entries = quote_spanned!(member.span()=>
            ::redis_script::__private::variadic_entries(&self.#member)
        );
        return quote! {
            for #entry in #entries {
                command.arg(#entry);
            }
        };
    };
    if field.variadic {
        let own = quote_spanned!(member.span()=> ::redis_script::__private::template_value(#entry));
        let arguments = format_arguments(template, &own, script);
        let entries = quote_spanned!(member.span()=>
            ::redis_script::__private::template_entries(&self.#member)
        );
        quote! {
            for #entry in #entries {
                command.arg(::redis_script::__private::KeyFromTemplate(#arguments));
            }
        }
    } else {
        let own = quote_spanned!(member.span()=>
            ::redis_script::__private::template_value(&self.#member)
        );
        let arguments = format_arguments(template, &own, script);
        quote!(command.arg(::redis_script::__private::KeyFromTemplate(#arguments));)
    }
}

/// `format_args!("...", ...)` for a template: literal text with its braces doubled, and one
/// positional `{}` per placeholder, filled with `own` or the named field. Values go through
/// `template_value`, spanned at their field, so a value that is not `Display` is reported there.
fn format_arguments(
    template: &KeyTemplate,
    own: &TokenStream,
    script: &ScriptStruct<'_>,
) -> TokenStream {
    let mut format = String::new();
    let mut values = Vec::new();
    for piece in &template.pieces {
        match piece {
            TemplatePiece::Literal(text) => {
                format.push_str(&text.replace('{', "{{").replace('}', "}}"));
            }
            TemplatePiece::OwnValue => {
                format.push_str("{}");
                values.push(own.clone());
            }
            TemplatePiece::Field(name) => {
                format.push_str("{}");
                // parse.rs checked that every name is a field of the struct.
                let value = script
                    .fields
                    .iter()
                    .find(|ident| same_name(name, ident))
                    .map_or_else(
                        || own.clone(),
                        |ident| {
                            quote_spanned!(ident.span()=>
                                ::redis_script::__private::template_value(&self.#ident)
                            )
                        },
                    );
                values.push(value);
            }
        }
    }
    quote!(::core::format_args!(#format #(, #values)*))
}

/// The warnings, as uses of a deprecated constant named after the lint: stable Rust gives a
/// derive no other way to warn, and this one shows the message at the span at fault and obeys
/// `#[allow(deprecated)]` and `-D warnings` like any warning.
fn warnings(checked: &CheckedScript) -> TokenStream {
    checked
        .warnings
        .iter()
        .map(|warning| {
            let name = Ident::new(warning.lint.name(), warning.span);
            let message = &warning.message;
            quote_spanned! {warning.span=>
                #[deprecated(note = #message)]
                #[allow(non_upper_case_globals)]
                const #name: () = ();
                let _ = #name;
            }
        })
        // A block of its own per warning: two warnings of one lint name two constants.
        .map(|warning| quote!({ #warning }))
        .collect()
}
