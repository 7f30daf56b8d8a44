//! Typed, compile-time-checked Redis Lua scripts.
//!
//! Write the script as a Lua file and describe its keys, arguments and reply with a struct:
//!
//! ```
//! use redis_script::RedisScript;
//!
//! /// Adds to a counter and gives it a time to live; returns the new value.
//! #[derive(RedisScript)]
//! #[redis_script(path = "lua/doc_add_with_ttl.lua", returns = i64)]
//! struct AddWithTtl<'a> {
//!     #[key]
//!     counter: &'a str, // KEYS[1]
//!     #[arg]
//!     amount: i64, // ARGV[1]
//!     #[arg]
//!     ttl_seconds: u32, // ARGV[2]
//! }
//! # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
//! let total = AddWithTtl { counter: "visits", amount: 1, ttl_seconds: 60 }.invoke(connection)?;
//! # Ok(()) }
//! ```
//!
//! At compile time the derive reads the file (relative to the crate's `Cargo.toml`), parses it,
//! computes its SHA1 and checks it against the struct: a `KEYS[3]` that no field fills, a field
//! the script never reads, an unknown `#!lua` flag or a Lua syntax error is a compile error that
//! names the Lua file, line and column. Editing the file rebuilds the crate.
//!
//! At run time [`Script::invoke`] and [`Script::invoke_async`] send `EVALSHA` with the
//! precomputed SHA1, and `EVAL` once when the server answers `NOSCRIPT`. Scripts declaring
//! `#!lua flags=no-writes` are sent as `EVALSHA_RO` / `EVAL_RO`.
//!
//! # The derive
//!
//! - `#[redis_script(path = "...")]` names the Lua file; `returns = T` the reply type, any
//!   [`redis::FromRedisValue`] (default [`redis::Value`]).
//! - `#[key]` fields fill `KEYS`, `#[arg]` fields fill `ARGV`, each in declaration order. Field
//!   types are anything [`redis::ToRedisArgs`] that is one argument.
//! - The last `#[key]` and the last `#[arg]` may be `#[key(variadic)]` / `#[arg(variadic)]`: a
//!   `Vec<T>` or `&[T]` that spreads into any number of entries. The script must then read the
//!   table dynamically (`#KEYS`, `ipairs(KEYS)`, `unpack(ARGV, 2)`, ...).
//! - A unit struct serves a script with no keys and no arguments.
//!
//! The derive implements [`Script`] and adds inherent `invoke` / `invoke_async` methods, so
//! calling a script needs no trait import.

mod error;
mod invoke;
mod script;

pub use error::{Error, ScriptError};
pub use redis_script_analysis::ShebangFlags;
pub use script::Script;

/// Implements [`Script`] for a struct from a Lua file; see the [crate documentation](crate).
///
/// ```
/// #[derive(redis_script::RedisScript)]
/// #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// struct Incr<'a> {
///     #[key]
///     counter: &'a str,
/// }
/// ```
pub use redis_script_macros::RedisScript;

/// The `redis` crate this one is built on, so that code the derive generates (and yours) names
/// the same version.
pub use redis;

#[doc(hidden)]
pub mod __private {
    //! Used by the code the derive generates; not part of the public API.
    pub use redis::{Cmd, ToRedisArgs};

    use std::future::Future;

    use crate::{Error, Script, invoke};

    /// `Script::invoke_async` without capturing `&script` in the future: the command is built
    /// before the future is returned, so the struct need not be `Sync` and may be a temporary.
    #[inline]
    pub fn invoke_async<'c, S, C>(
        script: &S,
        connection: &'c mut C,
    ) -> impl Future<Output = Result<S::Output, Error>> + Send + use<'c, S, C>
    where
        S: Script + ?Sized,
        C: redis::aio::ConnectionLike + Send,
    {
        invoke::invoke_async(script.evalsha_command(), invoke::Details::of::<S>(), connection)
    }

    /// Fields that fill exactly one entry of `KEYS` or `ARGV`: checked at compile time, so that a
    /// value which is several arguments (or none, like `None`) cannot shift the later entries.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a single Redis argument, so it cannot fill one entry of KEYS or ARGV",
        label = "not exactly one argument",
        note = "a plain #[key] / #[arg] field needs a type that is one argument (&str, String, \
                integers, floats, bool, &[u8], Vec<u8>, ...): redis::ToSingleRedisArg",
        note = "for a list, mark the field #[key(variadic)] / #[arg(variadic)]; for an optional \
                value, send a sentinel the script understands"
    )]
    pub trait SingleArgument {}

    impl<T: redis::ToSingleRedisArg + ?Sized> SingleArgument for T {}

    #[inline(always)]
    pub fn single_argument<T: SingleArgument + ?Sized>(_: &T) {}
}
