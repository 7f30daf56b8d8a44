//! Static analysis of Redis Lua scripts, as plain functions.
//!
//! This crate is what `#[derive(RedisScript)]` runs at compile time, kept free of proc-macro
//! machinery so that unit tests, fuzzers and other tools can call it directly:
//!
//! - [`analyze`] parses a script, reads its `#!lua` shebang flags, finds how it reads `KEYS`
//!   and `ARGV`, checks that against the struct's [`Declaration`] and returns [`Diagnostic`]s.
//! - [`script_sha1`] is the SHA1 that Redis uses to name a script (`EVALSHA`).
//! - [`hash_slot`] is Redis Cluster's key-to-slot function, and [`KeyTemplate`] reasons about
//!   the slots of keys built from `format!`-style templates.
//!
//! ```
//! use redis_script_analysis::{analyze, Declaration, Field};
//!
//! let declaration = Declaration {
//!     name: "Incr".into(),
//!     keys: vec![Field::single("counter")],
//!     args: vec![],
//!     standalone_only: false,
//!     extra_commands: vec![],
//!     allow: vec![],
//!     returns: Default::default(),
//! };
//! let analysis = analyze("return redis.call('INCR', KEYS[1])", &declaration);
//! assert!(analysis.diagnostics.is_empty());
//! assert_eq!(analysis.keys.highest_literal_index(), Some(1));
//! ```
// Without `lua` the crate documentation above names items that are not compiled in.
#![cfg_attr(not(feature = "lua"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "lua")]
mod allows;
#[cfg(feature = "lua")]
mod checks;
mod declaration;
mod diagnostic;
#[cfg(feature = "lua")]
pub mod function_library;
mod hash_slot;
mod includes;
pub mod key_template;
mod lint;
#[cfg(feature = "lua")]
mod own_error_replies;
#[cfg(feature = "lua")]
mod redis_calls;
#[cfg(feature = "lua")]
mod script_sha1;
mod shebang;
pub mod slot_proof;
#[cfg(feature = "lua")]
mod table_usage;
mod target;

#[cfg(feature = "lua")]
pub use checks::{Analysis, analyze, analyze_on, analyze_script, analyze_script_on};
pub use declaration::{Declaration, Field, ReturnsShape};
pub use diagnostic::{Blame, Diagnostic, Location, Origin};
#[cfg(feature = "lua")]
pub use function_library::{
    FunctionAnalysis, Library, RegisteredFunction, analyze_function, analyze_function_on,
};
pub use hash_slot::{SLOT_COUNT, hash_slot, hash_tag};
pub use includes::{AssembledScript, ScriptFiles, SourceSegment, assemble_script};
pub use key_template::{HashTag, KeyTemplate, TemplateError, TemplatePiece};
pub use lint::Lint;
#[cfg(feature = "lua")]
pub use own_error_replies::may_reply_own_error;
#[cfg(feature = "lua")]
pub use redis_calls::{
    BeginSearch, COMMANDS, Command, CommandFlags, FindKeys, GENERATED_FROM, KeyPositions, KeySpec,
    KeySpecFlags, LUA_GLOBALS, LUA_GLOBALS_BY_SERVER, LUA_LIBRARY_MEMBERS,
    LUA_LIBRARY_MEMBERS_BY_SERVER, REDIS_VERSION, Since, Variant, find_command, global_since,
    library_members, member_since, sandbox_globals, sandbox_members, similar_commands,
};
#[cfg(feature = "lua")]
pub use script_sha1::script_sha1;
pub use shebang::{Shebang, ShebangFlags, parse_shebang};
pub use slot_proof::check_key_slots;
#[cfg(feature = "lua")]
pub use table_usage::{LiteralIndex, TableUsage, TableUsages, find_table_usages};
pub use target::{Server, Target, Version};
