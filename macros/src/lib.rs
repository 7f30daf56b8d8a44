//! `#[derive(RedisScript)]`, re-exported by the `redis-script` crate; see its documentation.
//!
//! The derive is three steps: `parse` reads the struct and its attributes, `validate` loads
//! the Lua file and runs `redis-script-analysis` on it, and `expand` writes the `Script`
//! implementation. All knowledge of Lua lives in the analysis crate.

mod expand;
mod parse;
mod validate;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `redis_script::Script` for a struct from a Lua file.
///
/// ```ignore
/// #[derive(RedisScript)]
/// #[redis_script(path = "lua/transfer.lua", returns = i64)]
/// struct Transfer<'a> {
///     #[key] from: &'a str,
///     #[key] to: &'a str,
///     #[arg] amount: i64,
/// }
/// ```
#[proc_macro_derive(RedisScript, attributes(redis_script, key, arg))]
pub fn derive_redis_script(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    parse::ScriptStruct::from_input(&input)
        .and_then(|script| {
            let checked = validate::check(&script)?;
            Ok(expand::expand(&script, &checked))
        })
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
