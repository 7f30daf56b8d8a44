//! `#[derive(RedisScript)]`, re-exported by the `redis-script` crate; see its documentation.
//!
//! The derive is three steps: `parse` reads the struct and its attributes, `validate` loads
//! the Lua file and runs `redis-script-analysis` on it, and `expand` writes the `Script`
//! implementation. All knowledge of Lua lives in the analysis crate.

mod expand;
mod parse;
mod target;
mod validate;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `redis_script::Script` for a struct from a Lua file.
///
/// Use it through the `redis-script` crate, which re-exports it as
/// [`redis_script::RedisScript`](https://docs.rs/redis-script/latest/redis_script/derive.RedisScript.html)
/// and documents the attributes and the checks, with examples that compile and run there (a
/// proc-macro crate cannot run its own derive in doctests). The form for keys that share a
/// Redis Cluster hash slot, as `redis_script`'s crate documentation compiles it:
///
/// ```text
/// use redis_script::RedisScript;
///
/// #[derive(RedisScript)]
/// #[redis_script(path = "lua/doc_transfer.lua", returns = i64)]
/// struct Transfer<'a> {
///     bank: &'a str, // fills the templates; not sent
///     #[key("{{bank:{bank}}}:acct:{}")]
///     from: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<from>"
///     #[key("{{bank:{bank}}}:acct:{}")]
///     to: &'a str, // KEYS[2], in the same slot as KEYS[1]
///     #[arg]
///     amount: i64, // ARGV[1]
/// }
/// ```
#[proc_macro_derive(RedisScript, attributes(redis_script, key, arg))]
pub fn derive_redis_script(input: TokenStream) -> TokenStream {
    derive(input, parse::Kind::Script)
}

/// Implements `redis_script::Function` for a struct that calls one function of a Redis 7
/// function library (`FCALL`), checked at compile time like a script.
///
/// Use it through the `redis-script` crate, which re-exports it as
/// [`redis_script::RedisFunction`](https://docs.rs/redis-script/latest/redis_script/derive.RedisFunction.html):
///
/// ```text
/// #[derive(redis_script::RedisFunction)]
/// #[redis_function(library = "lua/bank.lua", function = "transfer", returns = i64)]
/// struct Transfer<'a> {
///     #[key] from: &'a str, // the callback's keys[1]
///     #[key] to: &'a str,   // keys[2]
///     #[arg] amount: i64,   // args[1]
/// }
/// ```
#[proc_macro_derive(RedisFunction, attributes(redis_function, key, arg))]
pub fn derive_redis_function(input: TokenStream) -> TokenStream {
    derive(input, parse::Kind::Function)
}

fn derive(input: TokenStream, kind: parse::Kind) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    parse::ScriptStruct::from_input(&input, kind)
        .and_then(|script| {
            let checked = validate::check(&script)?;
            Ok(expand::expand(&script, &checked))
        })
        .unwrap_or_else(|error| {
            // The errors, and an implementation that calls compile against, so that the only
            // errors are the real ones and not one more at every call site.
            let mut tokens = error.into_compile_error();
            tokens.extend(expand::fallback(&input, kind));
            tokens
        })
        .into()
}
