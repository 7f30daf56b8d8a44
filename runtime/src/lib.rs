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
//! precomputed SHA1, and when the server answers `NOSCRIPT`, `SCRIPT LOAD` + `EVALSHA` in one
//! round trip, one load shared by the invocations that hit it together. Scripts declaring
//! `#!lua flags=no-writes` are sent as `EVALSHA_RO` / `EVAL_RO`.
//!
//! In bulk, with the same exactly-once promise whatever `SCRIPT FLUSH` does (see
//! [`pipeline`] for why each is safe): [`ScriptPipeline`] (plain pipelines, mixed with ordinary
//! commands, replies typed through [`Ticket`]s), [`ScriptTransaction`] (`MULTI`/`EXEC`),
//! [`PipelineExt`] (invocations in a [`redis::Pipeline`]) and, on a Redis Cluster,
//! `batch::ClusterBatch` (feature `cluster`, on by default). Every derived script is listed by
//! [`scripts()`]; [`registry`] loads them all at start-up and reports the missing ones. The
//! `tracing` feature adds a span per invocation.
//!
//! # The derive
//!
//! - `#[redis_script(path = "...")]` names the Lua file; `returns = T` the reply type, any
//!   [`redis::FromRedisValue`] (default [`redis::Value`]).
//! - `#[key]` fields fill `KEYS`, `#[arg]` fields fill `ARGV`, each in declaration order. A
//!   field's type must be exactly one Redis argument: [`redis::ToSingleRedisArg`] (`&str`,
//!   `String`, integers, floats, `bool`, `&[u8]`, `Vec<u8>`, ...), checked at compile time.
//! - The last `#[key]` and the last `#[arg]` may be `#[key(variadic)]` / `#[arg(variadic)]`: a
//!   list (`Vec<T>`, `&[T]`, `[T; N]`, anything `AsRef<[T]>`) of single arguments
//!   (`T: redis::ToSingleRedisArg`) that spreads into one entry per element. The script must
//!   then read the table dynamically (`#KEYS`, `ipairs(KEYS)`, `unpack(ARGV, 2)`, ...).
//!   `unpack` gives at most 7,999 values in Redis's Lua (its stack's limit): `unpack(KEYS)` of
//!   8,000 keys or more fails with "too many results to unpack", so the derive reports an
//!   `unpack` of a variadic table without an end bound (`unbounded_unpack`); unpack in chunks,
//!   `for i = 1, #KEYS, 1000 do redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS))) end`.
//! - A unit struct serves a script with no keys and no arguments.
//! - `#[key("template")]` builds the key from a template in `format!` syntax: `{}` is the
//!   field's own value, `{name}` another field's (formatted with `Display`), `{{` / `}}` literal
//!   braces, so a Redis hash tag is written `{{...}}`. A field with neither `#[key]` nor
//!   `#[arg]` that a template uses is a template parameter: it is not sent itself. A template
//!   combines with `variadic` (`#[key("{{cart:{user}}}:item:{}", variadic)]`): it is rendered
//!   once per entry, `{}` being the entry. Keys are written straight into the command's buffer:
//!   no `String` per key.
//! - `#[redis_script(standalone_only)]` declares that the script never runs on a Redis
//!   Cluster: the struct-level twin of `#!lua flags=no-cluster`, for scripts that must also run
//!   on Redis 6, where a `#!` line is a syntax error.
//! - `#[redis_script(server = "redis-7.4")]` (or `[package.metadata.redis-script] server =
//!   "..."` in the crate's `Cargo.toml`) declares the oldest server the script must run on
//!   (default `redis-7.0`; `valkey-8.0`, ...): commands are checked against what that server
//!   has, so `HEXPIRE` needs `redis-7.4` or `valkey-9.0`.
//! - `#[redis_script(extra_commands = ["DELEX", "CLIENT|NOHELLO"])]` names commands (or
//!   `CONTAINER|SUB` subcommands) of modules or of servers the command table does not cover
//!   (Redis 7.0 to 8.2, Valkey 7.2 to 9.1): calls to them are accepted unchecked
//!   instead of being unknown commands; everything else in the script is still checked.
//!
//! - `#[arg("template")]` builds an argument from a template in the same syntax, for an
//!   argument that carries a key prefix with the keys' hash tag (`#[arg("{{q:{queue}}}:{}")]`):
//!   the slot proof covers it, so the script may build keys on it (`ARGV[1] .. id`).
//! - `#[key(unread)]` / `#[arg(unread)]` marks a field the script does not read on purpose;
//!   `#[redis_script(allow(lint, ...))]` allows lints by name for the whole script, and a Lua
//!   comment `-- redis-script: allow(lint, ...)` for one line. Every Lua diagnostic shows its
//!   lint's name; what Redis certainly refuses cannot be allowed.
//! - A line `--- @include "includes/helpers"` inlines another Lua file (relative to the
//!   including one, `.lua` optional, once per script); diagnostics and Lua errors at run time
//!   name the file and line the code is written in ([`RegisteredScript::source_map`]).
//!
//! The derive implements [`Script`] and adds inherent `invoke` / `invoke_async` methods, so
//! calling a script needs no trait import.
//!
//! # Redis Cluster
//!
//! A cluster refuses (`CROSSSLOT`) a script whose keys are in different hash slots, so a script
//! with two or more keys (a variadic key counts as two) must **prove at compile time** that its
//! keys share a slot, unless it opts out with `#!lua flags=no-cluster` or `standalone_only`.
//! The proof reads the key templates' hash tags: keys whose tags are the same expression share
//! a slot; literal tags are hashed at compile time; anything else (a plain `#[key]`, a template
//! without a tag, different tags) is a compile error that explains the fixes. The rule is
//! written out in `redis_script_analysis::check_key_slots`. `#!lua flags=allow-cross-slot-keys`
//! does not relax it: Redis still refuses declared keys of different slots (that flag only lets
//! the script touch, one command at a time, undeclared keys of other slots of the node it runs
//! on; a key on another node, or one command whose keys span two slots, is refused inside any
//! script).
//!
//! ```
//! use redis_script::RedisScript;
//!
//! #[derive(RedisScript)]
//! #[redis_script(path = "lua/doc_transfer.lua", returns = i64)]
//! struct Transfer<'a> {
//!     bank: &'a str, // fills the templates; not sent
//!     #[key("{{bank:{bank}}}:acct:{}")]
//!     from: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<from>"
//!     #[key("{{bank:{bank}}}:acct:{}")]
//!     to: &'a str, // KEYS[2], in the same slot as KEYS[1]
//!     #[arg]
//!     amount: i64,
//! }
//! # fn run(connection: &mut redis::cluster::ClusterConnection) -> Result<(), redis_script::Error> {
//! let left = Transfer { bank: "eu", from: "alice", to: "bob", amount: 5 }.invoke(connection)?;
//! # Ok(()) }
//! ```
//!
//! The proof assumes values without `{` or `}` that do not empty a tag; a value that breaks it
//! moves the tag, so before any network I/O every invocation of such a script checks its keys'
//! actual slots and fails with [`Error::CrossSlot`] instead of sending. Templates that all start
//! with the same literal tag (`{{archive}}:{}`) fix the slot whatever the values, so those
//! invocations skip the check.
//!
//! [`Script::invoke`] and [`Script::invoke_async`] work on the `redis` crate's cluster
//! connections (routed by the first key); the `cluster` module (feature `cluster`, on by
//! default) adds explicit routing (a keyless script to a primary), a slot-map reload after an
//! I/O error on the synchronous connection, so the next call reaches a promoted replica (the
//! failed call is never resent), and `SCRIPT LOAD` on every node.
//! [`Script::invoke_and_wait`] runs a script and `WAIT` in one round trip, returning how many
//! replicas acknowledged its writes.
//!
//! # Redis 7 functions
//!
//! A library file (`#!lua name=bank`, `redis.register_function(...)`) is loaded once with
//! `FUNCTION LOAD`, persisted and replicated by the server, and its functions are called by
//! name with `FCALL`. [`Function`] is their typed interface, as [`Script`] is for scripts:
//! [`Function::invoke`] and [`Function::invoke_async`] send `FCALL` (`FCALL_RO` for `no-writes`
//! functions, which replicas serve) and load the library when the server does not have it,
//! without ever running a call twice. [`libraries`] loads every library at start-up and finds
//! the stale ones (a library of the same name loaded by an older deploy, whose code the server
//! would silently run); `cluster_functions` (feature `cluster`) routes calls explicitly on a
//! Redis Cluster.
//!
//! `#[derive(RedisFunction)]` writes the implementation, one struct per function, with the same
//! field attributes as scripts; the library is checked at compile time (its `#!lua name=`
//! line, the registrations and their flags, the function's keys and args through the
//! callback's own parameter names, and every check scripts get):
//!
//! ```
//! use redis_script::RedisFunction;
//!
//! /// `lua/doc_bank.lua` registers `doc_transfer(keys, args)`.
//! #[derive(RedisFunction)]
//! #[redis_function(library = "lua/doc_bank.lua", function = "doc_transfer", returns = i64)]
//! struct Transfer<'a> {
//!     bank: &'a str,
//!     #[key("{{bank:{bank}}}:{}")]
//!     from: &'a str, // keys[1]
//!     #[key("{{bank:{bank}}}:{}")]
//!     to: &'a str, // keys[2]
//!     #[arg]
//!     amount: i64, // args[1]
//! }
//! # let server = throwaway_redis::RedisServer::start()?;
//! # let mut connection = server.connection()?;
//! let transfer = Transfer { bank: "eu", from: "alice", to: "bob", amount: 5 };
//! assert_eq!(transfer.invoke(&mut connection)?, 5); // loads the library on first use
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(not(any(feature = "tokio", feature = "smol")))]
compile_error!(
    "redis-script needs the async runtime that `invoke_async` runs on: enable its feature \
     `tokio` (a default feature) or `smol`"
);

#[cfg(feature = "cluster")]
pub mod batch;
mod chunks;
#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "cluster")]
pub mod cluster_functions;
mod error;
mod ext;
mod fcall;
mod flight;
mod function;
mod invoke;
pub mod libraries;
mod observe;
pub mod pipeline;
mod recover;
pub mod registry;
mod replication;
mod script;
mod slot_guard;
mod source_map;

pub use error::{Error, Ran, ScriptError};
pub use function::Function;
pub use libraries::{RegisteredLibrary, registered_libraries};
pub use pipeline::{Outcome, PipelineExt, Replies, ScriptPipeline, ScriptTransaction, Ticket};
pub use redis_script_analysis::ShebangFlags;
pub use registry::{RegisteredScript, scripts};
pub use replication::Replicated;
pub use script::Script;
pub use source_map::SourceSegment;

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

/// Implements [`Function`] for a struct that calls one function of a Redis 7 function library
/// (`FCALL`); see the [crate documentation](crate#redis-7-functions).
pub use redis_script_macros::RedisFunction;

/// The `redis` crate this one is built on, so that code the derive generates (and yours) names
/// the same version.
pub use redis;

#[doc(hidden)]
pub mod __private {
    //! Used by the code the derive generates; not part of the public API.
    /// Registers every derived script (see `registry`).
    pub use inventory;
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
        invoke::invoke_async(
            script.evalsha_command(),
            invoke::Details::of::<S>(),
            connection,
        )
    }

    /// `Function::invoke_async` without capturing `&function` in the future, as
    /// [`invoke_async`] for scripts.
    #[inline]
    pub fn invoke_function_async<'c, F, C>(
        function: &F,
        connection: &'c mut C,
    ) -> impl Future<Output = Result<F::Output, Error>> + Send + use<'c, F, C>
    where
        F: crate::Function + ?Sized,
        C: redis::aio::ConnectionLike + Send,
    {
        crate::fcall::invoke_async(
            function.fcall_command(),
            crate::fcall::Details::of::<F>(),
            connection,
        )
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

    impl<T: redis::ToSingleRedisArg> SingleArgument for T {}

    #[inline(always)]
    pub fn single_argument<T: SingleArgument>(_: &T) {}

    /// The entries of a plain `#[key(variadic)]` / `#[arg(variadic)]` field: a list whose every
    /// entry is one Redis argument, so that `numkeys` is its length. (`ToRedisArgs::num_of_args`
    /// is not: a `Vec` reports its length whatever its entries write, so a list of pairs or of
    /// `Option`s would mix `KEYS` with `ARGV`.) Two traits, so that each failure is reported
    /// with its own message, at the field.
    #[diagnostic::on_unimplemented(
        message = "a #[key(variadic)] / #[arg(variadic)] field needs a list, and `{Self}` is not one",
        label = "not a Vec, slice or array",
        note = "use a Vec<T>, &[T] or [T; N] whose entries are each one argument (&str, String, \
                integers, ...): T: redis::ToSingleRedisArg; each entry fills one entry of KEYS \
                or ARGV"
    )]
    pub trait VariadicList<T> {
        fn entries(&self) -> &[T];
    }

    impl<T, L: AsRef<[T]> + ?Sized> VariadicList<T> for L {
        #[inline(always)]
        fn entries(&self) -> &[T] {
            self.as_ref()
        }
    }

    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a single Redis argument, so a list of it cannot fill one entry \
                   of KEYS or ARGV per element",
        label = "entries are not exactly one argument each",
        note = "the entries of a #[key(variadic)] / #[arg(variadic)] list need a type that is one \
                argument (&str, String, integers, floats, bool, &[u8], Vec<u8>, ...): \
                redis::ToSingleRedisArg",
        note = "an entry that is several arguments or none (a tuple, an Option, a nested list) \
                would shift every later entry, moving arguments into KEYS or keys into ARGV; \
                flatten the list, or send a sentinel the script understands for a missing value"
    )]
    pub trait SingleEntry {}

    impl<T: redis::ToSingleRedisArg> SingleEntry for T {}

    #[inline(always)]
    pub fn variadic_entries<T: SingleEntry, L: VariadicList<T> + ?Sized>(list: &L) -> &[T] {
        list.entries()
    }

    /// Values that fill key templates: formatted with `Display`, checked at the field.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot fill a key template: templates format values with `Display`",
        label = "not `Display`",
        note = "give the field a type that implements `std::fmt::Display` (&str, String, \
                integers, ...), or send it as a plain #[key] / #[arg] instead of through a template"
    )]
    pub trait TemplateValue {
        fn fmt_template(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
    }

    // No `Display` supertrait: it would make rustc report a missing `Display` twice.
    impl<T: std::fmt::Display + ?Sized> TemplateValue for T {
        #[inline(always)]
        fn fmt_template(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.fmt(f)
        }
    }

    /// Returns a type that does not depend on `T`, so a field that is not `Display` is reported
    /// once, here, and not again where the template is formatted.
    #[inline(always)]
    pub fn template_value<T: TemplateValue>(value: &T) -> TemplateArgument<'_> {
        TemplateArgument(value)
    }

    pub struct TemplateArgument<'a>(&'a dyn TemplateValue);

    impl std::fmt::Display for TemplateArgument<'_> {
        #[inline(always)]
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt_template(f)
        }
    }

    /// The entries of a templated `#[key("...", variadic)]` field, checked at the field.
    #[diagnostic::on_unimplemented(
        message = "a templated #[key(variadic)] field needs a list of values, and `{Self}` is not one",
        label = "not a Vec, slice or array",
        note = "use a Vec<T>, &[T] or [T; N] whose entries implement Display; the template is \
                rendered once per entry"
    )]
    pub trait TemplateEntries<T> {
        fn entries(&self) -> &[T];
    }

    impl<T, L: AsRef<[T]> + ?Sized> TemplateEntries<T> for L {
        #[inline(always)]
        fn entries(&self) -> &[T] {
            self.as_ref()
        }
    }

    #[inline(always)]
    pub fn template_entries<T, L: TemplateEntries<T> + ?Sized>(list: &L) -> &[T] {
        list.entries()
    }

    /// A key built from a key template, written into the command's buffer as one argument
    /// without an intermediate `String`: `command.arg(KeyFromTemplate(format_args!(..)))`.
    #[derive(Clone, Copy)]
    pub struct KeyFromTemplate<'a>(pub core::fmt::Arguments<'a>);

    impl ToRedisArgs for KeyFromTemplate<'_> {
        #[inline]
        fn write_redis_args<W>(&self, out: &mut W)
        where
            W: ?Sized + redis::RedisWrite,
        {
            out.write_arg_fmt(self.0);
        }
    }

    impl redis::ToSingleRedisArg for KeyFromTemplate<'_> {}
}
