//! Scripts and functions in pipelines and transactions, exactly once and in order whatever
//! `SCRIPT FLUSH` or `FUNCTION FLUSH` does.
//!
//! # What can go wrong, and what each type does about it
//!
//! Redis keeps scripts in a cache that any client can empty with `SCRIPT FLUSH` (a restart or a
//! failover empties it too, and Redis 8 evicts `EVAL`-cached scripts beyond 500, though never
//! `SCRIPT LOAD`ed ones). `EVALSHA` of a script that is not cached fails with `NOSCRIPT` and
//! runs nothing. For one command at a time that is harmless: [`Script::invoke`] answers it with
//! a reload and the `EVALSHA` again. In a pipeline it needs care:
//!
//! - A plain pipeline is not atomic. The server reads it in chunks (16 KB at a time) and serves
//!   other clients between them, so another client's `SCRIPT FLUSH` can land between any two of
//!   its commands, including between a `SCRIPT LOAD` sent first and the `EVALSHA`s after it.
//! - When an `EVALSHA` fails there, the commands after it still run (checked on Redis 7.0.15:
//!   `tests/tests/pipelines.rs`, `noscript_in_the_middle_of_a_plain_pipeline_skips_that_entry_only`).
//!   Sending the failed invocation again afterwards keeps it exactly once, but runs it after the
//!   entries that followed it, unless none of those ran.
//!
//! What this module does, proven by `tests/tests/exactly_once.rs` under a `SCRIPT FLUSH` every
//! few milliseconds, with a one-line script and with a 25 KB one:
//!
//! - [`ScriptPipeline`] (plain) sends every invocation as `EVALSHA` (`EVALSHA_RO` for
//!   `no-writes` scripts): only the SHA1 on the wire, as a hand-written pipeline. When replies
//!   say `NOSCRIPT`, the **trailing run** (the invocations answered `NOSCRIPT` that end the
//!   pipeline: everything that ran came before all of them) is sent again, in order, after one
//!   `SCRIPT LOAD` per distinct script; a flush that lands in that round too makes its own
//!   trailing run go again, and after three such rounds the rest go as `EVAL`, which cannot answer
//!   `NOSCRIPT`, so the recovery ends. A flush in the middle of a pipeline of invocations fails
//!   every invocation after it, so the trailing run is all of them: each invocation runs exactly
//!   once and in the order added. An invocation answered `NOSCRIPT` **before** something that ran
//!   (which needs a script that is cached next to one that is not) is not sent again, since that
//!   would reorder it; its reply is [`Error::NotRun`] and [`Replies::not_run`] lists it. What runs
//!   is always in the order added, and what did not run is said precisely.
//!
//!   Two rules keep that second case rare. Invocations that an ordinary command follows go as
//!   `EVAL`, since a command cannot wait for a reload: put commands first, or use
//!   [`ScriptTransaction`]. And a pipeline mixing scripts first loads, once per process (see
//!   `flight`), the scripts this process never loaded, so that a script the server never saw
//!   does not fail next to one it has; after that, scripts leave the cache together (flush,
//!   restart, failover) and come back together. What is left: a server that lacks a script this
//!   process loaded elsewhere while it has another (one process, several servers), or another
//!   client reloading one of two scripts between two entries of the pipeline. Then the
//!   invocation is reported not run, and the process forgets that script, so the next mixed
//!   pipeline loads it up front.
//!
//!   Cost: nothing on the common path but a scan of the replies for `NOSCRIPT`; after a flush,
//!   one more round trip and one source transfer per distinct script (shared with the other
//!   invocations of the process that hit `NOSCRIPT` at the same time, see `flight`).
//! - [`ScriptTransaction`] sends `MULTI`, then for each script the first time it appears a
//!   `SCRIPT LOAD` of its source, its invocations as `EVALSHA`, the other commands, then `EXEC`.
//!   `SCRIPT LOAD` is allowed inside `MULTI`; Redis queues an `EVALSHA` whether or not the script
//!   is cached (7.0 only looks it up then for its flags) and decides `NOSCRIPT` when `EXEC` runs
//!   it; and `EXEC` runs the whole queue atomically, so no other client's `SCRIPT FLUSH` can land
//!   between the `SCRIPT LOAD` and the `EVALSHA`s (all three checked on Redis 7.0.15). So
//!   `NOSCRIPT` cannot happen, and the transaction stays atomic.
//!
//!   Its bound: **per transaction, one source transfer and one server-side hash per distinct
//!   script**. Nothing cheaper is safe: an `EVALSHA` queued in `MULTI` for a missing script fails
//!   only at `EXEC`, after the other commands of the transaction ran, so the transaction would
//!   no longer be all or nothing; and sending it again after an `EXEC` whose invocations all
//!   said `NOSCRIPT` would run it without the `WATCH` the caller may hold (`EXEC` always ends
//!   it). `EVAL` for the first invocation instead of `SCRIPT LOAD` costs the same transfer and
//!   hash (measured in `BENCHMARKS.md`) and leaves the script evictable on Redis 8, so the load
//!   stays. With a one-line script the load is noise; with a 25 KB one it is a 25 KB read and
//!   SHA1 per transaction, which `BENCHMARKS.md` measures at depths 1, 16 and 100 against a bare
//!   `EVALSHA` pipeline and against `MULTI`/`EXEC` without the load. A `SCRIPT FLUSH` added to
//!   the transaction itself is noticed and the next invocation of each script is preceded by a
//!   new `SCRIPT LOAD`. The [`Replies`] hold only what was added, not the `SCRIPT LOAD` replies;
//!   but a `SCRIPT LOAD` that fails inside `EXEC` (a source the server cannot compile) puts its
//!   error in place of each of its script's invocations, which would otherwise all say
//!   `NOSCRIPT`.
//! - [`PipelineExt::evalsha_script`] adds an invocation to a [`redis::Pipeline`] as `EVALSHA`,
//!   and [`PipelineExt::query_scripts`] sends it with the recovery of [`ScriptPipeline`] (plain)
//!   or the loads of [`ScriptTransaction`] (`atomic()`), then lets `redis` convert the replies
//!   into tuples. [`PipelineExt::eval_script`] adds it as `EVAL` instead, for `redis`'s own
//!   `query`, at the price of the source per invocation.
//!
//! Why a plain pipeline does not wrap its invocations in `MULTI`/`EXEC` to use `EVALSHA` safely
//! too: `EXEC` ends any `WATCH` the connection holds (and runs nothing if a watched key
//! changed), which would silently change the caller's optimistic locking. A transaction is
//! what [`ScriptTransaction`] is, chosen explicitly.
//!
//! A failed invocation (a Lua error, a `redis.call` that fails, `WRONGTYPE`, ...) behaves as Redis
//! defines for pipelines and transactions: the other commands still run and its error comes back
//! in its place, as an [`Error`] with the Lua file and line.
//!
//! What none of this covers: a connection that breaks while the pipeline is in flight. Then some,
//! all or none of it may have run. The query returns [`Error::Interrupted`], whose [`Replies`]
//! say per entry what is known ([`Outcome`]): replied, certainly not run, or unknown. Resuming
//! without duplicates means sending the not-run entries again and checking the unknown ones
//! first. How much is known depends on the round that failed and on the connection:
//!
//! - **The first round on a synchronous `redis::Connection`** (also `&mut` or `Box` of one)
//!   goes out in chunks of at most 128 commands (and about 64 KB), each written while the
//!   replies of the one before are read, so the server always has the next chunk queued. When
//!   it fails, the entries of the chunks read so far keep their replies, at most two chunks
//!   (the one being read and the one just written, at most 256 entries) are unknown, and the
//!   chunks after them were never written: they did not run. A pipeline of 128 commands or
//!   fewer is one chunk.
//! - **The first round on any other connection** (a multiplexed or other asynchronous one, a
//!   `redis::Client`, which opens a new connection per call so that chunks could not follow
//!   each other, a wrapper type, a `dyn ConnectionLike`) is sent in one call, and the `redis`
//!   crate drops the replies it read when a later read fails: every entry is unknown.
//! - **A `NOSCRIPT` recovery round** is sent in one call: its entries are unknown, the entries
//!   answered in earlier rounds keep their replies.
//!
//! A reply the `redis` crate cannot read (an error reply that is not valid UTF-8, from a
//! script's `redis.error_reply` or `error(...)` quoting binary data) cuts the pipeline the same
//! way: [`Error::Interrupted`] with the parse error as its source, the entry that answered it
//! and the rest of its chunk (and the next chunk) unknown. A synchronous connection is then
//! closed (`QUIT`) so that nothing sent on it later runs out of step with its replies; see
//! [`Error::ReplyUnreadable`]. (A multiplexed connection closes itself: the pipeline gets an
//! I/O error, every entry unknown.)
//!
//! A transaction that the server refuses whole, before `EXEC` runs anything (`EXECABORT`),
//! reports what a single call would: [`Error::Busy`] while another script runs,
//! [`Error::OutOfMemory`] when memory is full, each with the [`Ticket::index`] of the caller's
//! first refused invocation (not the position of a `SCRIPT LOAD` this module added); any other
//! refused command discards it as [`Error::TransactionDiscarded`], with the caller's ticket too.
//! All say [`Ran::No`](crate::Ran).
//!
//! # Functions
//!
//! [`ScriptPipeline::invoke_function`] and [`ScriptTransaction::invoke_function`] add calls of
//! Redis 7 functions ([`Function`]) as `FCALL` (`FCALL_RO` for `no-writes`), next to scripts
//! and commands, with replies typed through the same [`Ticket`]s and Lua errors located in the
//! library file. A server that lacks the library answers `ERR Function not found`, which,
//! like `NOSCRIPT`, means that call did not run and the entries after it did (checked on Redis
//! 7.0.15). So the same rule applies:
//!
//! - In a plain pipeline the trailing run of calls (and script invocations) that missed their
//!   code is sent again, in order, after one `FUNCTION LOAD` per library (never `REPLACE`; a
//!   load answered `Library ... already exists` is as good as done: another client loaded it);
//!   a call that missed before something that ran is [`Error::NotRun`], listed by
//!   [`Replies::not_run`]. A function has no `EVAL` form, so calls followed by an ordinary
//!   command stay `FCALL`s, and a pipeline whose calls stand next to commands, scripts or calls
//!   of another library sends one `FUNCTION LOAD` per library in front (the library's code
//!   once per such pipeline; the server answers "already exists" without compiling it). Only a
//!   `FUNCTION FLUSH` landing inside the pipeline itself can then leave a call not run. Calls of
//!   one library alone need no load up front: a flush fails all of them after it, which is a
//!   trailing run. Every round loads the libraries again; what still misses its library after
//!   the last round is reported as not run (`tests/tests/functions.rs` runs 40,000 calls in
//!   pipelines under a `FUNCTION FLUSH` every millisecond: each ran once, in order).
//! - A transaction sends a `FUNCTION LOAD` of each library before its first call, inside
//!   `MULTI`, for the reason it sends `SCRIPT LOAD`: `EXEC` runs the load and the calls with
//!   nothing in between, so no call can miss its library. When the server has the library, the
//!   load fails inside `EXEC` with its own reply, `ERR Library '...' already exists`, and the
//!   rest of the transaction runs (checked on Redis 7.0.15; that reply is dropped). Loading
//!   before `MULTI` instead would save the library's bytes per transaction but is not safe: a
//!   flush landing between the load and the `EXEC` would fail the calls inside `EXEC` after
//!   the other commands of the transaction ran, so it would no longer be all or nothing, and
//!   sending them again would run them outside the caller's `WATCH`. A load that fails for
//!   another reason (a function name another library registers, `OOM`) puts its error in place
//!   of the library's calls; a call that finds the library but not the function (an older
//!   version of it) is [`Error::FunctionMissing`]. A `FUNCTION FLUSH` or `FUNCTION DELETE`
//!   added to the transaction makes the next call load its library again.
//! - [`PipelineExt`] takes scripts only: it recognizes its invocations in a `redis::Pipeline`
//!   by their SHA1.
//!
//! # Not on cluster connections
//!
//! [`ScriptPipeline`] and [`ScriptTransaction`] are for one server (a standalone server, or one
//! node through its own connection). The `redis` crate's cluster connections break their promises:
//! on `MOVED` or `ASK` they resend the whole pipeline, so invocations that had run run twice; the
//! synchronous one turns any error reply into an error of the whole pipeline and routes a
//! transaction by its first command after `MULTI`, here a keyless `SCRIPT LOAD`, so to a random
//! node. So their `query` methods refuse `redis::cluster::ClusterConnection` and
//! `redis::cluster_async::ClusterConnection` with [`Error::ClusterConnection`], before sending
//! anything. (The check goes by the connection's type: a
//! cluster connection hidden behind a wrapper or a `dyn ConnectionLike` is not recognized, and
//! gets the behaviour above.) [`PipelineExt`] only adds commands to a `redis::Pipeline`, whose own
//! `query` cannot be checked: do not send such a pipeline on a cluster connection either. On a
//! cluster use `redis_script::batch::ClusterBatch` (feature `cluster`): one pipeline per node,
//! routed by the key slots, with `MOVED`/`ASK` and `NOSCRIPT` handled per node.

use std::any::type_name;
use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use redis::{Cmd, ErrorKind, FromRedisValue, RedisError, Value};

use crate::{Error, Function, Script};

/// `ERR Function not found`: see `fcall`.
const FUNCTION_NOT_FOUND: &str = "Function not found";

/// What the replies need to know of a script: constants of its [`Script`] implementation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScriptInfo {
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) source: &'static str,
    pub(crate) sha1: &'static str,
    /// `#!lua flags=no-writes`: sent as `EVALSHA_RO` / `EVAL_RO`.
    pub(crate) read_only: bool,
    /// Whether the runtime slot guard applies (see [`crate::invoke::Details`]).
    pub(crate) guard_slots: bool,
    /// `Script::SLOT_ARGS`: arguments the slot guard checks with the keys.
    pub(crate) slot_args: &'static [usize],
    /// `Script::MAY_REPLY_OWN_ERROR`: a cluster batch keeps its slots in `MULTI`/`EXEC`.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) may_reply_own_error: bool,
    /// `Some` for a function of a library (sent as `FCALL`; `sha1` is empty and `source` is
    /// the library's code), `None` for a script.
    pub(crate) function: Option<FunctionName>,
}

/// The names a function's invocation needs besides those of a script.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FunctionName {
    pub(crate) library: &'static str,
    pub(crate) function: &'static str,
}

/// What identifies one load (`SCRIPT LOAD` or `FUNCTION LOAD`) among those of a batch: whether
/// it is a library's, and the script's SHA1 or the library's name. The flag keeps a library
/// that happens to be named like a SHA1 apart from the script.
pub(crate) type LoadKey = (bool, &'static str);

impl ScriptInfo {
    /// A `'static` constant per script type: batches keep one pointer per invocation, not a
    /// copy of these nine fields.
    pub(crate) fn of<S: Script + ?Sized>() -> &'static Self {
        &const {
            ScriptInfo {
                name: S::NAME,
                path: S::PATH,
                source: S::SOURCE,
                sha1: S::SHA1,
                read_only: S::FLAGS.no_writes,
                guard_slots: S::SLOT_GUARD,
                slot_args: S::SLOT_ARGS,
                may_reply_own_error: S::MAY_REPLY_OWN_ERROR,
                function: None,
            }
        }
    }

    /// As [`ScriptInfo::of`], for a function.
    pub(crate) fn of_function<F: Function + ?Sized>() -> &'static Self {
        &const {
            ScriptInfo {
                name: F::NAME,
                path: F::PATH,
                source: F::SOURCE,
                sha1: "",
                read_only: F::FLAGS.no_writes,
                guard_slots: F::SLOT_GUARD,
                slot_args: F::SLOT_ARGS,
                may_reply_own_error: F::MAY_REPLY_OWN_ERROR,
                function: Some(FunctionName {
                    library: F::LIBRARY,
                    function: F::FUNCTION,
                }),
            }
        }
    }

    /// The error of a failed reply, located in the script's or library's file. A function
    /// that is still missing after its library was loaded (or that a transaction's load could
    /// not bring) is [`Error::FunctionMissing`], as for a single call.
    pub(crate) fn error(&self, error: RedisError) -> Error {
        match self.function {
            Some(function) if crate::fcall::is_function_missing(&error) => Error::FunctionMissing {
                function: function.function,
                library: function.library,
                path: self.path,
                source: error,
            },
            _ => Error::from_reply(error, self.path, self.source),
        }
    }

    pub(crate) fn is_function(&self) -> bool {
        self.function.is_some()
    }

    pub(crate) fn load_key(&self) -> LoadKey {
        match self.function {
            Some(function) => (true, function.library),
            None => (false, self.sha1),
        }
    }

    /// `SCRIPT LOAD source`, or `FUNCTION LOAD code` (never `REPLACE`: see `fcall`).
    pub(crate) fn load_command(&self) -> Cmd {
        if self.is_function() {
            crate::fcall::load_command(self.source, false)
        } else {
            load_command(self.source)
        }
    }

    /// Whether a reply says this invocation did not run because the server lacks its code:
    /// `NOSCRIPT` for a script, `ERR Function not found` for a function.
    pub(crate) fn missed(&self, reply: &Value) -> bool {
        match reply {
            Value::ServerError(error) if self.is_function() => {
                error.code() == "ERR" && error.details().map(str::trim) == Some(FUNCTION_NOT_FOUND)
            }
            Value::ServerError(error) => crate::error::is_noscript_reply(error),
            _ => false,
        }
    }

    /// Whether the reply to this invocation's load is a failure. A library that already
    /// exists is as good as loaded for a call of it (another client loaded it first).
    pub(crate) fn load_failed(&self, reply: &Value) -> bool {
        match reply {
            Value::ServerError(error) if self.is_function() => {
                !crate::fcall::is_library_existing(&RedisError::from(error.clone()))
            }
            Value::ServerError(_) => true,
            _ => false,
        }
    }

    /// The runtime slot guard for one invocation (`EVAL` or `EVALSHA`), before any I/O.
    pub(crate) fn check_slots(&self, command: &Cmd) -> Result<(), Error> {
        if self.guard_slots {
            crate::slot_guard::check(command, self.name, self.slot_args)
        } else {
            Ok(())
        }
    }
}

/// Runs the slot guard over every invocation of a pipeline, so that a cross-slot invocation
/// refuses the whole pipeline before anything is sent (as it refuses a single invocation).
fn check_all_slots<'a>(
    commands: impl Iterator<Item = &'a Cmd>,
    scripts: impl Iterator<Item = Option<&'a ScriptInfo>>,
) -> Result<(), Error> {
    for (command, script) in commands.zip(scripts) {
        if let Some(script) = script {
            script.check_slots(command)?;
        }
    }
    Ok(())
}

/// `EVAL source numkeys keys... args...` (`EVAL_RO` for a `no-writes` script).
pub(crate) fn eval_command<S: Script + ?Sized>(script: &S) -> Cmd {
    let fields = S::KEY_FIELDS.len() + S::ARG_FIELDS.len();
    let mut command = Cmd::with_capacity(3 + fields, 32 + S::SOURCE.len() + 32 * fields);
    command.arg(if S::FLAGS.no_writes {
        "EVAL_RO"
    } else {
        "EVAL"
    });
    command.arg(S::SOURCE);
    script.write_keys_and_args(&mut command);
    command
}

/// `SCRIPT LOAD source`.
pub(crate) fn load_command(source: &str) -> Cmd {
    let mut command = redis::cmd("SCRIPT");
    command.arg("LOAD").arg(source);
    command
}

/// Whether a command is `SCRIPT FLUSH` (in any case, with or without `SYNC`/`ASYNC`).
pub(crate) fn is_script_flush(command: &Cmd) -> bool {
    let mut args = command.args_iter();
    let is = |arg: Option<redis::Arg<&[u8]>>, word: &str| matches!(arg, Some(redis::Arg::Simple(bytes)) if bytes.eq_ignore_ascii_case(word.as_bytes()));
    is(args.next(), "SCRIPT") && is(args.next(), "FLUSH")
}

/// Whether a command removes libraries (`FUNCTION FLUSH`, `FUNCTION DELETE`), so that a
/// transaction loads a library again before its next call.
fn is_function_removal(command: &Cmd) -> bool {
    let mut args = command.args_iter();
    let is = |arg: &Option<redis::Arg<&[u8]>>, word: &str| matches!(arg, Some(redis::Arg::Simple(bytes)) if bytes.eq_ignore_ascii_case(word.as_bytes()));
    is(&args.next(), "FUNCTION") && {
        let sub = args.next();
        is(&sub, "FLUSH") || is(&sub, "DELETE")
    }
}

/// Whether `C` is one of the `redis` crate's cluster connections (`redis::cluster::ClusterConnection`,
/// `redis::cluster_async::ClusterConnection`), told by the path of its type: `redis`'s
/// `ConnectionLike` traits have no cluster hint. A cluster connection behind a wrapper type or a
/// `dyn ConnectionLike` is not recognized.
pub(crate) fn is_cluster_connection<C: ?Sized>() -> bool {
    type_name::<C>().starts_with("redis::cluster_handling::")
}

/// The refusal of a [`ScriptPipeline`] or [`ScriptTransaction`] on a cluster connection, before
/// anything is sent.
fn refuse_cluster<C: ?Sized>(batch: &'static str) -> Result<(), Error> {
    if is_cluster_connection::<C>() {
        Err(Error::ClusterConnection {
            batch,
            connection: type_name::<C>(),
        })
    } else {
        Ok(())
    }
}

fn client_error(message: &'static str, detail: String) -> Error {
    Error::Redis(RedisError::from((ErrorKind::Client, message, detail)))
}

/// Converts one reply: a server error becomes the script's [`Error`] (located in its Lua file)
/// or [`Error::Redis`] for a plain command; a value is converted into `T`.
pub(crate) fn convert_reply<T: FromRedisValue>(
    reply: &Result<Value, RedisError>,
    script: Option<&ScriptInfo>,
) -> Result<T, Error> {
    let value = match reply {
        Err(error) => {
            return Err(match script {
                Some(info) => info.error(error.clone()),
                None => Error::Redis(error.clone()),
            });
        }
        Ok(value) => value,
    };
    let value = match value {
        Value::ServerError(error) => {
            let error = RedisError::from(error.clone());
            return Err(match script {
                Some(info) => info.error(error),
                None => Error::Redis(error),
            });
        }
        // An error nested in a script's table reply fails the conversion, as in `invoke`.
        Value::Array(_) | Value::Map(_) => match value.clone().extract_error() {
            Ok(value) => value,
            Err(error) => {
                return Err(match script {
                    Some(info) => info.error(error),
                    None => Error::Redis(error),
                });
            }
        },
        _ => return convert_plain(value, script),
    };
    convert_plain(&value, script)
}

fn convert_plain<T: FromRedisValue>(
    value: &Value,
    script: Option<&ScriptInfo>,
) -> Result<T, Error> {
    T::from_redis_value_ref(value).map_err(|error| match script {
        Some(info) => Error::Conversion {
            path: info.path,
            expected: type_name::<T>(),
            source: error.into(),
        },
        None => Error::Redis(error.into()),
    })
}

/// The place of one added invocation or command in [`Replies`], and the type its reply converts
/// into.
///
/// Returned by [`ScriptPipeline::invoke`], [`ScriptPipeline::command`] and their
/// [`ScriptTransaction`] twins; give it to [`Replies::get`]. It is `Copy`.
///
/// ```
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::{ScriptPipeline, Ticket};
///
/// let mut pipeline = ScriptPipeline::new();
/// let count: Ticket<i64> = pipeline.invoke(&Incr { counter: "visits" });
/// assert_eq!(count.index(), 0);
/// ```
pub struct Ticket<T> {
    index: usize,
    output: PhantomData<fn() -> T>,
}

impl<T> Ticket<T> {
    pub(crate) fn new(index: usize) -> Self {
        Ticket {
            index,
            output: PhantomData,
        }
    }

    /// The position of the invocation or command among those added, from 0.
    ///
    /// ```
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let first = pipeline.command::<()>(redis::cmd("PING"));
    /// let second = pipeline.command::<()>(redis::cmd("PING"));
    /// assert_eq!((first.index(), second.index()), (0, 1));
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<T> Clone for Ticket<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ticket<T> {}

impl<T> fmt::Debug for Ticket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticket<{}>({})", type_name::<T>(), self.index)
    }
}

/// The replies of a [`ScriptPipeline`] or [`ScriptTransaction`], one per invocation or command
/// added, in the order added.
///
/// After a complete run every entry has its reply ([`Outcome::Replied`]), except invocations
/// that certainly did not run ([`Outcome::NotRun`], listed by [`not_run`](Self::not_run)). When
/// the connection fails with the batch in flight, the query returns [`Error::Interrupted`]
/// holding these replies, in which each entry says what is known of it
/// ([`outcome`](Self::outcome)): its reply, certainly not run, or [`Outcome::Unknown`] (it may
/// have run); see [`Error::Interrupted`] for which entries can be unknown. A cluster batch
/// returns them the same way for the invocations of a node that failed.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
/// let mut pipeline = redis_script::ScriptPipeline::new();
/// let count = pipeline.invoke(&Incr { counter: "visits" });
/// let replies = pipeline.query(connection)?;
/// let count: i64 = replies.get(count)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Replies {
    values: Vec<Result<Value, RedisError>>,
    scripts: Vec<Option<&'static ScriptInfo>>,
    /// Per entry, what is known of it; empty when every entry replied (the common case, with
    /// nothing allocated).
    outcomes: Vec<Outcome>,
    /// The entries ran as one transaction: all of them or none.
    atomic: bool,
}

/// What is known of one entry of a [`Replies`]: whether the server answered it, and if not,
/// whether it may have run. [`Replies::outcome`] gives it.
///
/// ```
/// use redis_script::Outcome;
///
/// /// What a caller resuming an interrupted batch does with each entry.
/// fn resume(outcome: Outcome) -> &'static str {
///     match outcome {
///         Outcome::Replied => "done: read its reply",
///         Outcome::NotRun => "send it again",
///         Outcome::Unknown => "check whether it ran (or send it through an idempotency check)",
///     }
/// }
/// assert_eq!(resume(Outcome::NotRun), "send it again");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The server answered it: [`Replies::get`] gives the reply, a value or the entry's own
    /// error (which says whether it ran, see [`Replies::ran`]).
    Replied,
    /// It certainly did not run: answered `NOSCRIPT` (or `Function not found`) and not sent
    /// again ([`Error::NotRun`]), or never sent. Sending it again is safe.
    NotRun,
    /// Sent (or possibly sent), and its reply was lost with the connection: it may have run,
    /// completely, or not at all. Check before sending it again, or make it idempotent.
    Unknown,
}

impl Replies {
    pub(crate) fn new(values: Vec<Value>, scripts: Vec<Option<&'static ScriptInfo>>) -> Self {
        Replies {
            values: values.into_iter().map(Ok).collect(),
            scripts,
            outcomes: Vec::new(),
            atomic: false,
        }
    }

    /// Marks the entries flagged in `not_run` as certainly not run.
    pub(crate) fn with_not_run(mut self, not_run: Vec<bool>) -> Self {
        if not_run.contains(&true) {
            self.outcomes = not_run
                .into_iter()
                .map(|not_run| {
                    if not_run {
                        Outcome::NotRun
                    } else {
                        Outcome::Replied
                    }
                })
                .collect();
        }
        self
    }

    /// Replies with what is known of each entry (`outcomes`, one per entry): those of an
    /// interrupted batch, or of a cluster batch of which some invocations were not answered.
    pub(crate) fn with_outcomes(
        values: Vec<Result<Value, RedisError>>,
        scripts: Vec<Option<&'static ScriptInfo>>,
        outcomes: Vec<Outcome>,
        atomic: bool,
    ) -> Self {
        let outcomes = if outcomes.iter().all(|&outcome| outcome == Outcome::Replied) {
            Vec::new()
        } else {
            outcomes
        };
        Replies {
            values,
            scripts,
            outcomes,
            atomic,
        }
    }

    /// Every entry unknown: a batch whose first (or only) round failed, `error` in place of
    /// each reply.
    pub(crate) fn all_unknown(
        scripts: Vec<Option<&'static ScriptInfo>>,
        error: &RedisError,
        atomic: bool,
    ) -> Self {
        let count = scripts.len();
        Replies {
            values: vec![Err(error.clone()); count],
            scripts,
            outcomes: vec![Outcome::Unknown; count],
            atomic,
        }
    }

    /// Marks a transaction's entries: those that did not run for want of their script's load.
    fn with_transaction_not_run(mut self, not_run: Vec<bool>) -> Self {
        self = self.with_not_run(not_run);
        self.atomic = true;
        self
    }

    /// The reply for `ticket`, converted: the script's or command's own error if it failed
    /// (a Lua error becomes [`Error::Script`] with the file and line), [`Error::Conversion`] if the
    /// reply does not convert. An entry that did not run is [`Error::NotRun`]; one whose reply
    /// was lost ([`Outcome::Unknown`]) is the error that lost it, whose [`Error::ran`] is
    /// [`Ran::Maybe`](crate::Ran::Maybe). A ticket of another pipeline that is out of range is
    /// an [`Error::Redis`] of kind `Client`.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let set = pipeline.command::<()>(redis::cmd("SET").arg("visits").arg("many"));
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// let replies = pipeline.query(connection)?;
    /// replies.get(set)?;
    /// assert!(replies.get(count).is_err()); // value is not an integer, at lua/doc_incr.lua:1
    /// # Ok(()) }
    /// ```
    pub fn get<T: FromRedisValue>(&self, ticket: Ticket<T>) -> Result<T, Error> {
        let Some(value) = self.values.get(ticket.index) else {
            return Err(client_error(
                "ticket out of range",
                format!(
                    "ticket {} of a pipeline with {} replies: it belongs to another pipeline",
                    ticket.index,
                    self.values.len()
                ),
            ));
        };
        let script = self.scripts.get(ticket.index).copied().flatten();
        match self.outcome_at(ticket.index) {
            Outcome::Replied => convert_reply(value, script),
            Outcome::NotRun => {
                let source = match value {
                    Ok(Value::ServerError(error)) => RedisError::from(error.clone()),
                    Ok(other) => {
                        RedisError::from((ErrorKind::Client, "did not run", format!("{other:?}")))
                    }
                    Err(error) => error.clone(),
                };
                Err(match script {
                    Some(script) => Error::NotRun {
                        path: script.path,
                        source,
                    },
                    // A command is reported not run only when it was never sent: its error
                    // (`error::not_sent`) says `Ran::No` through `Error::ran`.
                    None => Error::Redis(source),
                })
            }
            // The error that lost the reply as it is: located in a script it would still be an
            // `Error::Redis`, and no refusal can stand in for a lost reply.
            Outcome::Unknown => Err(Error::Redis(match value {
                Err(error) => error.clone(),
                Ok(other) => {
                    RedisError::from((ErrorKind::Io, "the reply was lost", format!("{other:?}")))
                }
            })),
        }
    }

    /// What is known of the entry at `index` ([`Ticket::index`]): replied, certainly not run,
    /// or unknown; `None` out of range.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::{Error, Outcome};
    ///
    /// # fn run(connection: &mut redis::Connection) -> Result<(), Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// match pipeline.query(connection) {
    ///     Ok(replies) => assert_eq!(replies.outcome(count.index()), Some(Outcome::Replied)),
    ///     Err(Error::Interrupted { replies, .. }) => {
    ///         // Replied, or Unknown: the connection broke with the invocation in flight.
    ///         println!("{:?}", replies.outcome(count.index()));
    ///     }
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn outcome(&self, index: usize) -> Option<Outcome> {
        (index < self.values.len()).then(|| self.outcome_at(index))
    }

    fn outcome_at(&self, index: usize) -> Outcome {
        self.outcomes
            .get(index)
            .copied()
            .unwrap_or(Outcome::Replied)
    }

    /// Whether the entry at `index` ran: [`Ran::No`](crate::Ran::No) if it certainly did not
    /// (not run, or answered with a refusal such as `BUSY` or `OOM`),
    /// [`Ran::Maybe`](crate::Ran::Maybe) if its reply was lost, [`Ran::Yes`](crate::Ran::Yes)
    /// if it replied otherwise (a script's own error included: what it did before failing
    /// stays); `None` out of range. The same as [`Error::ran`] of the error
    /// [`get`](Self::get) returns for it, and `Yes` for a reply that is a value.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Ran;
    ///
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// let replies = pipeline.query(connection)?;
    /// assert_eq!(replies.ran(count.index()), Some(Ran::Yes));
    /// # Ok(()) }
    /// ```
    pub fn ran(&self, index: usize) -> Option<crate::Ran> {
        let value = self.values.get(index)?;
        Some(match self.outcome_at(index) {
            Outcome::NotRun => crate::Ran::No,
            Outcome::Unknown => crate::Ran::Maybe,
            Outcome::Replied => match value {
                Ok(Value::ServerError(error)) => {
                    let error = RedisError::from(error.clone());
                    match self.scripts.get(index).and_then(Option::as_ref) {
                        Some(script) => script.error(error).ran(),
                        None => Error::Redis(error).ran(),
                    }
                }
                Ok(_) => crate::Ran::Yes,
                Err(error) => Error::Redis(error.clone()).ran(),
            },
        })
    }

    /// The positions of the entries that certainly did not run ([`Outcome::NotRun`]), in
    /// the order added. After a complete run: empty unless a `SCRIPT FLUSH` (or an evicted
    /// script) made an invocation fail with `NOSCRIPT` before something that ran after it, so
    /// that running it now would reorder it (see the [pipeline module](crate::pipeline)).
    /// After an interruption ([`Error::Interrupted`]), or in a cluster batch, also those that
    /// were never sent. Sending exactly these again is safe: none of them ran.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.invoke(&Incr { counter: "visits" });
    /// let replies = pipeline.query(connection)?;
    /// for index in replies.not_run() {
    ///     println!("invocation {index} did not run");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn not_run(&self) -> impl Iterator<Item = usize> + '_ {
        self.with_outcome(Outcome::NotRun)
    }

    /// The positions of the entries whose reply was lost ([`Outcome::Unknown`]), in the order
    /// added: they may have run. Empty after a complete run; see [`Error::Interrupted`] for
    /// which entries can be unknown.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.invoke(&Incr { counter: "visits" });
    /// if let Err(redis_script::Error::Interrupted { replies, .. }) = pipeline.query(connection) {
    ///     let unknown: Vec<usize> = replies.unknown().collect();
    ///     println!("check whether {unknown:?} ran before sending them again");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn unknown(&self) -> impl Iterator<Item = usize> + '_ {
        self.with_outcome(Outcome::Unknown)
    }

    fn with_outcome(&self, wanted: Outcome) -> impl Iterator<Item = usize> + '_ {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(move |(index, &outcome)| (outcome == wanted).then_some(index))
    }

    /// Whether the entries ran as one transaction ([`ScriptTransaction`], or an `atomic()`
    /// pipeline of [`PipelineExt::query_scripts`]): then its [`Outcome::Unknown`] entries all
    /// ran or none did, so checking one of them tells for all.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// transaction.invoke(&Incr { counter: "visits" });
    /// if let Some(replies) = transaction.query(connection)? {
    ///     assert!(replies.is_atomic());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_atomic(&self) -> bool {
        self.atomic
    }

    /// The replies an interrupted [`PipelineExt::query_scripts`] or
    /// [`query_scripts_async`](PipelineExt::query_scripts_async) carries in its error (which
    /// stays a [`redis::RedisError`] of the same kind, an I/O error when the connection
    /// failed), one per command of the `redis::Pipeline`; `None` for any other error (an
    /// unreadable reply stays the `redis` crate's parse error). They are the raw replies: read
    /// them with [`value`](Self::value), [`outcome`](Self::outcome) and [`ran`](Self::ran). On
    /// a synchronous `redis::Connection` the first round goes out in chunks as for
    /// [`ScriptPipeline::query`], so the commands of the chunks read before the cut keep their
    /// replies and those never sent did not run; see [`Error::Interrupted`].
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::{PipelineExt, Replies};
    ///
    /// # fn run(connection: &mut redis::Connection) {
    /// let result: redis::RedisResult<(i64, i64)> = redis::pipe()
    ///     .evalsha_script(&Incr { counter: "a" })
    ///     .evalsha_script(&Incr { counter: "b" })
    ///     .query_scripts(connection);
    /// if let Err(error) = result
    ///     && let Some(replies) = Replies::of_interrupted(&error)
    /// {
    ///     let resend: Vec<usize> = replies.not_run().collect();
    ///     let check: Vec<usize> = replies.unknown().collect();
    ///     println!("send {resend:?} again; check {check:?}");
    /// }
    /// # }
    /// ```
    pub fn of_interrupted(error: &RedisError) -> Option<&Replies> {
        let io = std::error::Error::source(error)?.downcast_ref::<std::io::Error>()?;
        io.get_ref()?
            .downcast_ref::<crate::ext::Interrupted>()
            .map(|interrupted| &interrupted.replies)
    }

    /// The raw reply at `index` (a failed command's is [`Value::ServerError`]); `None` out of
    /// range, or for an entry without a reply: [`Outcome::Unknown`], or never sent (the part
    /// of an interrupted pipeline after the cut, a cluster batch invocation whose node could
    /// not be reached).
    ///
    /// ```no_run
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.command::<String>(redis::cmd("PING"));
    /// let replies = pipeline.query(connection)?;
    /// assert!(matches!(replies.value(0), Some(redis::Value::SimpleString(_))));
    /// # Ok(()) }
    /// ```
    pub fn value(&self, index: usize) -> Option<&Value> {
        self.values.get(index).and_then(|reply| reply.as_ref().ok())
    }

    /// The number of replies: one per invocation or command added.
    ///
    /// ```no_run
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.command::<String>(redis::cmd("PING"));
    /// assert_eq!(pipeline.query(connection)?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no replies (nothing was added).
    ///
    /// ```no_run
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// assert!(redis_script::ScriptPipeline::new().query(connection)?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A plain (non-atomic) pipeline of typed script invocations and ordinary commands.
///
/// Invocations are sent as `EVALSHA`; those answered `NOSCRIPT` at the end of the pipeline (a
/// flush, a restart) are sent again in order after a `SCRIPT LOAD`, so whatever `SCRIPT FLUSH`
/// another client sends, every invocation runs at most once, what runs runs in the order added,
/// and an invocation that could not be sent again without reordering is reported as
/// [`Error::NotRun`]. Invocations that an ordinary command follows go as `EVAL`. Each reply
/// comes back typed through its [`Ticket`]. See the [module documentation](crate::pipeline) for
/// why this is safe; [`ScriptTransaction`] runs its invocations atomically.
///
/// For one server only: on the `redis` crate's cluster connections `query` refuses to run
/// ([`Error::ClusterConnection`]; see [Not on cluster connections](crate::pipeline#not-on-cluster-connections)).
/// Use `redis_script::batch::ClusterBatch` on a cluster.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::ScriptPipeline;
///
/// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
/// let mut pipeline = ScriptPipeline::new();
/// let first = pipeline.invoke(&Incr { counter: "visits" });
/// let name = pipeline.command::<Option<String>>(redis::cmd("GET").arg("name"));
/// let second = pipeline.invoke(&Incr { counter: "visits" });
/// let replies = pipeline.query(connection)?;
/// assert_eq!(replies.get(second)?, replies.get(first)? + 1);
/// let name: Option<String> = replies.get(name)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ScriptPipeline {
    /// Invocations as `EVALSHA`, commands as added.
    pipeline: redis::Pipeline,
    scripts: Vec<Option<&'static ScriptInfo>>,
    invocations: usize,
    /// The first invocation and the last ordinary command: invocations before that command go
    /// as `EVAL` (a command cannot be made to wait for a reload).
    first_invocation: Option<usize>,
    last_command: Option<usize>,
}

impl ScriptPipeline {
    /// An empty pipeline.
    ///
    /// ```
    /// assert!(redis_script::ScriptPipeline::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an invocation of `script` (sent as `EVALSHA`, or as `EVAL` if an ordinary command
    /// follows it: see the [module documentation](crate::pipeline)); its reply converts into the
    /// script's `returns` type.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// assert_eq!(pipeline.len(), 1);
    /// ```
    pub fn invoke<S: Script + ?Sized>(&mut self, script: &S) -> Ticket<S::Output> {
        let index = self.scripts.len();
        self.pipeline.add_command(script.evalsha_command());
        self.scripts.push(Some(ScriptInfo::of::<S>()));
        self.invocations += 1;
        self.first_invocation.get_or_insert(index);
        Ticket::new(index)
    }

    /// Adds a call of the function `function` (sent as `FCALL`, `FCALL_RO` for a `no-writes`
    /// function); its reply converts into the function's `returns` type, and its Lua errors
    /// name the library file and line, as for [`Function::invoke`].
    ///
    /// A call answered `ERR Function not found` did not run. Those that end the pipeline are
    /// sent again in order after one `FUNCTION LOAD` per library; one that something after it
    /// ran is [`Error::NotRun`] (see the [module documentation](crate::pipeline#functions)).
    /// A pipeline whose calls stand next to commands, scripts or calls of another library
    /// loads their libraries up front, so that this takes a `FUNCTION FLUSH` landing inside
    /// the pipeline itself.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let balance = pipeline.invoke_function(&Transfer { from: "{b}:a", to: "{b}:b", amount: 1 });
    /// let sent = pipeline.as_pipeline().cmd_iter().next().unwrap();
    /// assert_eq!(sent.args_iter().count(), 6); // FCALL doc_transfer 2 {b}:a {b}:b 1
    /// assert_eq!(balance.index(), 0);
    /// # }
    /// ```
    pub fn invoke_function<F: Function + ?Sized>(&mut self, function: &F) -> Ticket<F::Output> {
        let index = self.scripts.len();
        self.pipeline.add_command(function.fcall_command());
        self.scripts.push(Some(ScriptInfo::of_function::<F>()));
        self.invocations += 1;
        self.first_invocation.get_or_insert(index);
        Ticket::new(index)
    }

    /// Adds an ordinary command (a [`Cmd`], `&Cmd` or `&mut Cmd`, as `redis::cmd(..).arg(..)`
    /// gives); its reply converts into `T` (use [`redis::Value`] to keep it raw, `()` to ignore
    /// it).
    ///
    /// ```
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let length = pipeline.command::<usize>(redis::cmd("LLEN").arg("queue"));
    /// assert_eq!(length.index(), 0);
    /// ```
    pub fn command<T: FromRedisValue>(&mut self, command: impl Borrow<Cmd>) -> Ticket<T> {
        let command = command.borrow();
        let index = self.scripts.len();
        self.pipeline.add_command(command.clone());
        self.scripts.push(None);
        self.last_command = Some(index);
        Ticket::new(index)
    }

    /// The number of invocations and commands added.
    ///
    /// ```
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.command::<()>(redis::cmd("PING"));
    /// assert_eq!(pipeline.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Whether nothing was added.
    ///
    /// ```
    /// assert!(redis_script::ScriptPipeline::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// The commands as added: every invocation as `EVALSHA`. Those followed by an ordinary
    /// command go to the server as `EVAL` instead (see the
    /// [module documentation](crate::pipeline)).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// pipeline.invoke(&Incr { counter: "visits" });
    /// let sent = pipeline.as_pipeline().cmd_iter().next().unwrap();
    /// assert_eq!(sent.args_iter().count(), 4); // EVALSHA <sha1> 1 visits
    /// ```
    pub fn as_pipeline(&self) -> &redis::Pipeline {
        &self.pipeline
    }

    /// Invocations before this index go as `EVAL`: those that an ordinary command follows.
    fn eval_before(&self) -> usize {
        match (self.first_invocation, self.last_command) {
            (Some(first), Some(last)) if first < last => last,
            _ => 0,
        }
    }

    /// The loads to send in front: scripts of a mixed run of `EVALSHA`s that this process
    /// never loaded (see `flight::first_loads`), then the libraries of the pipeline's functions
    /// when a call could miss its library next to something that runs (an ordinary command, a
    /// script, a function of another library), which would leave it not run. Calls of one
    /// library alone miss together and are all sent again, so they need no load up front.
    fn first_loads(&self) -> (Vec<&ScriptInfo>, Vec<crate::flight::Loader>) {
        let from = self.eval_before();
        let mixed = crate::recover::mixed(self.scripts[from..].iter().copied().flatten());
        let (mut loads, loaders) = crate::recover::first_loads(&mixed);
        let entries = self.scripts.iter().copied().flatten();
        let first_function = self
            .scripts
            .iter()
            .position(|entry| entry.is_some_and(|entry| entry.is_function()));
        if let Some(first_function) = first_function {
            let mut keys = entries.clone().map(ScriptInfo::load_key);
            let first = keys.next();
            // Commands before every call cannot make one of them not run.
            let alone = self.last_command.is_none_or(|last| last < first_function)
                && keys.all(|key| Some(key) == first);
            if !alone {
                loads.extend(crate::recover::libraries(entries));
            }
        }
        (loads, loaders)
    }

    /// What goes on the wire when it is not the pipeline as added: `loads` in front, and
    /// invocations before the last ordinary command as `EVAL`.
    fn wire(&self, loads: &[&ScriptInfo]) -> Option<redis::Pipeline> {
        let eval_before = self.eval_before();
        if eval_before == 0 && loads.is_empty() {
            return None;
        }
        let mut pipeline = redis::Pipeline::with_capacity(loads.len() + self.len());
        for script in loads {
            pipeline.add_command(script.load_command());
        }
        for (index, (command, script)) in self.pipeline.cmd_iter().zip(&self.scripts).enumerate() {
            match script {
                Some(script) if index < eval_before && !script.is_function() => {
                    pipeline.add_command(crate::recover::eval_from_evalsha(script, command))
                }
                _ => pipeline.add_command(command.clone()),
            };
        }
        Some(pipeline)
    }

    /// The recovery of this pipeline's `EVALSHA`s (`None` when no reply is `NOSCRIPT`).
    fn recovery(&self, values: &[Value]) -> Option<crate::recover::Plain<'_>> {
        // Sent as `EVAL`, a script cannot miss; a function has no such form and is recovered
        // wherever it stands.
        let eval_before = self.eval_before();
        let scripts: Vec<Option<&ScriptInfo>> = self
            .scripts
            .iter()
            .enumerate()
            .map(|(index, script)| {
                script.filter(|script| index >= eval_before || script.is_function())
            })
            .collect();
        if !crate::recover::any_missed(&scripts, values) {
            return None;
        }
        crate::recover::Plain::start(scripts, self.pipeline.cmd_iter().collect(), values)
    }

    /// Sends the pipeline on a synchronous connection and returns the replies. The pipeline is
    /// kept and can be sent again. When the connection fails with the pipeline in flight (or a
    /// reply cannot be read), the error is [`Error::Interrupted`], which says per entry whether
    /// it replied, did not run, or may have run. On a `redis::Connection` the first round goes
    /// out in chunks of at most 128 commands, so that such a cut leaves at most two chunks
    /// unknown (see the [module documentation](crate::pipeline));
    /// on other connections every entry of the round that failed is unknown.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// let count = pipeline.query(connection)?.get(count)?;
    /// # Ok(()) }
    /// ```
    pub fn query<C>(&self, connection: &mut C) -> Result<Replies, Error>
    where
        C: redis::ConnectionLike + ?Sized,
    {
        let span = self.span("pipeline");
        let _entered = span.entered_guard();
        refuse_cluster::<C>("ScriptPipeline")?;
        if self.is_empty() {
            return Ok(Replies::new(Vec::new(), Vec::new()));
        }
        self.check_slots()?;
        let (loads, loaders) = self.first_loads();
        let wire = self.wire(&loads);
        let _children = span.children(self.invocation_spans());
        let mut mark = crate::flight::mark();
        // In chunks on a `redis::Connection`, so that a cut leaves per-entry outcomes.
        let sent = crate::chunks::send(connection, wire.as_ref().unwrap_or(&self.pipeline), None);
        let mut values = match sent {
            Ok(values) => values,
            Err(mut cut) => {
                cut.error = crate::invoke::close_on_parse_error(connection, cut.error);
                let error = cut.error.clone();
                let replies = cut_replies(cut, &loads, loaders, self.scripts.clone());
                return Err(Error::Interrupted {
                    replies: Box::new(replies),
                    source: error,
                });
            }
        };
        crate::recover::take_loads(&mut values, &loads, loaders);
        let mut not_run = Vec::new();
        if let Some(mut recovery) = self.recovery(&values) {
            while !recovery.done() {
                let (loads, loaders) = crate::recover::loads_sync(&recovery, mark);
                mark = crate::flight::mark();
                let round = recovery.round(&loads);
                let replies = connection
                    .req_packed_commands(&round.get_packed_pipeline(), 0, round.len())
                    .map_err(|error| crate::invoke::close_on_parse_error(connection, error))
                    .and_then(|replies| check_round(&round, replies));
                let replies = match replies {
                    Ok(replies) => replies,
                    Err(error) => {
                        return Err(interrupted_round(
                            recovery,
                            values,
                            self.scripts.clone(),
                            error,
                        ));
                    }
                };
                let loaded = recovery.settle(&loads, replies, &mut values);
                crate::recover::finish(loaders, loaded);
            }
            not_run = recovery.into_not_run();
        }
        Ok(Replies::new(values, self.scripts.clone()).with_not_run(not_run))
    }

    /// Sends the pipeline on an asynchronous connection and returns the replies.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # async fn run(connection: &mut redis::aio::MultiplexedConnection) -> Result<(), redis_script::Error> {
    /// let mut pipeline = redis_script::ScriptPipeline::new();
    /// let count = pipeline.invoke(&Incr { counter: "visits" });
    /// let count = pipeline.query_async(connection).await?.get(count)?;
    /// # Ok(()) }
    /// ```
    pub async fn query_async<C>(&self, connection: &mut C) -> Result<Replies, Error>
    where
        C: redis::aio::ConnectionLike,
    {
        let span = self.span("pipeline");
        let children = &span;
        let run = async {
            refuse_cluster::<C>("ScriptPipeline")?;
            if self.is_empty() {
                return Ok(Replies::new(Vec::new(), Vec::new()));
            }
            self.check_slots()?;
            let _children = children.children(self.invocation_spans());
            let (loads, loaders) = self.first_loads();
            let mut mark = crate::flight::mark();
            let count = loads.len() + self.len();
            let values = match self.wire(&loads) {
                Some(wire) => connection.req_packed_commands(&wire, 0, count).await,
                None => {
                    connection
                        .req_packed_commands(&self.pipeline, 0, count)
                        .await
                }
            };
            let mut values = values.map_err(|error| self.interrupted(error))?;
            crate::recover::take_loads(&mut values, &loads, loaders);
            self.check_count(&values)?;
            let mut not_run = Vec::new();
            if let Some(mut recovery) = self.recovery(&values) {
                while !recovery.done() {
                    let (loads, loaders) = crate::recover::loads_async(&recovery, mark).await;
                    mark = crate::flight::mark();
                    let round = recovery.round(&loads);
                    let replies = connection
                        .req_packed_commands(&round, 0, round.len())
                        .await
                        .and_then(|replies| check_round(&round, replies));
                    let replies = match replies {
                        Ok(replies) => replies,
                        Err(error) => {
                            return Err(interrupted_round(
                                recovery,
                                values,
                                self.scripts.clone(),
                                error,
                            ));
                        }
                    };
                    let loaded = recovery.settle(&loads, replies, &mut values);
                    crate::recover::finish(loaders, loaded);
                }
                not_run = recovery.into_not_run();
            }
            Ok(Replies::new(values, self.scripts.clone()).with_not_run(not_run))
        };
        span.instrument(run).await
    }

    /// The replies were read, but not one per entry: which is which cannot be told, so each
    /// entry is unknown.
    fn check_count(&self, values: &[Value]) -> Result<(), Error> {
        if values.len() != self.len() {
            return Err(self.interrupted(RedisError::from((
                ErrorKind::Client,
                "unexpected number of pipeline replies",
                format!("sent {} commands, got {} replies", self.len(), values.len()),
            ))));
        }
        Ok(())
    }

    /// The error of a first round that failed in one call: every entry unknown, whether the
    /// connection failed or a reply could not be read (`source` says which).
    fn interrupted(&self, error: RedisError) -> Error {
        interrupted_first(self.scripts.clone(), error, false)
    }

    fn check_slots(&self) -> Result<(), Error> {
        check_all_slots(self.pipeline.cmd_iter(), self.scripts.iter().copied())
    }

    fn span(&self, kind: &'static str) -> crate::observe::Span {
        crate::observe::Span::batch(kind, self.invocations, self.len())
    }

    /// What the per-invocation spans show: the fallback field says whether the source went to
    /// the server for the invocation up front (an `EVAL` before an ordinary command).
    fn invocation_spans(&self) -> impl Iterator<Item = (&ScriptInfo, &Cmd, bool)> {
        let eval_before = self.eval_before();
        self.pipeline
            .cmd_iter()
            .zip(&self.scripts)
            .enumerate()
            .filter_map(move |(index, (command, script))| {
                Some(((*script)?, command, index < eval_before))
            })
    }
}

/// A recovery round must get one reply per command it sent.
fn check_round(round: &redis::Pipeline, replies: Vec<Value>) -> Result<Vec<Value>, RedisError> {
    if replies.len() != round.len() {
        return Err(RedisError::from((
            ErrorKind::Client,
            "unexpected number of pipeline replies",
            format!(
                "sent {} commands to recover from NOSCRIPT, got {} replies",
                round.len(),
                replies.len()
            ),
        )));
    }
    Ok(replies)
}

/// [`Error::Interrupted`] for a batch whose first (or only) round failed with `error`: each
/// entry unknown, since the `redis` crate drops the replies it read when a later read fails.
pub(crate) fn interrupted_first(
    scripts: Vec<Option<&'static ScriptInfo>>,
    error: RedisError,
    atomic: bool,
) -> Error {
    Error::Interrupted {
        replies: Box::new(Replies::all_unknown(scripts, &error, atomic)),
        source: error,
    }
}

/// The replies of a plain pipeline whose first round was cut in flight ([`crate::chunks`]),
/// sent as `loads` then one command per entry: an entry whose reply was read replied (or did
/// not run, if it says `NOSCRIPT` or `Function not found`: there is no recovery round), one
/// that went out (or may have) is unknown, and one that was never written did not run. The
/// loads' replies, when read, are reported to their `loaders`.
pub(crate) fn cut_replies(
    cut: crate::chunks::Cut,
    loads: &[&ScriptInfo],
    loaders: Vec<crate::flight::Loader>,
    scripts: Vec<Option<&'static ScriptInfo>>,
) -> Replies {
    let crate::chunks::Cut {
        mut replies,
        sent,
        error,
    } = cut;
    if replies.len() >= loads.len() {
        crate::recover::take_loads(&mut replies, loads, loaders);
    } else {
        // The loads' replies were lost: dropping the loaders reports them as not loaded.
        replies.clear();
    }
    let sent = sent.saturating_sub(loads.len());
    let not_sent = crate::error::not_sent(&error);
    let mut replies = replies.into_iter();
    let mut values = Vec::with_capacity(scripts.len());
    let mut outcomes = Vec::with_capacity(scripts.len());
    for (index, script) in scripts.iter().enumerate() {
        let (value, outcome) = match replies.next() {
            Some(value) => {
                let missed = script.as_ref().is_some_and(|script| script.missed(&value));
                if missed
                    && let Some(script) = script.as_ref().filter(|script| !script.is_function())
                {
                    // As after a recovery: the next pipeline mixing it loads it up front.
                    crate::flight::forget(script.sha1);
                }
                let outcome = if missed {
                    Outcome::NotRun
                } else {
                    Outcome::Replied
                };
                (Ok(value), outcome)
            }
            None if index < sent => (Err(error.clone()), Outcome::Unknown),
            None => (Err(not_sent.clone()), Outcome::NotRun),
        };
        values.push(value);
        outcomes.push(outcome);
    }
    Replies::with_outcomes(values, scripts, outcomes, false)
}

/// The replies of a plain pipeline whose recovery round failed with `error`: the replies of
/// the earlier rounds, what did not run, and the entries of that round unknown.
pub(crate) fn interrupted_round_replies(
    recovery: crate::recover::Plain<'_>,
    values: Vec<Value>,
    scripts: Vec<Option<&'static ScriptInfo>>,
    error: &RedisError,
) -> Replies {
    let outcomes = recovery.into_outcomes();
    let values = values
        .into_iter()
        .zip(&outcomes)
        .map(|(value, &outcome)| match outcome {
            Outcome::Unknown => Err(error.clone()),
            Outcome::Replied | Outcome::NotRun => Ok(value),
        })
        .collect();
    Replies::with_outcomes(values, scripts, outcomes, false)
}

fn interrupted_round(
    recovery: crate::recover::Plain<'_>,
    values: Vec<Value>,
    scripts: Vec<Option<&'static ScriptInfo>>,
    error: RedisError,
) -> Error {
    Error::Interrupted {
        replies: Box::new(interrupted_round_replies(recovery, values, scripts, &error)),
        source: error,
    }
}

/// A transaction (`MULTI` ... `EXEC`) of typed script invocations and ordinary commands: atomic,
/// and immune to `SCRIPT FLUSH`.
///
/// Sent as `MULTI`, a `SCRIPT LOAD` of each script before its first invocation, the invocations
/// as `EVALSHA`, the commands, `EXEC`. `EXEC` runs everything at once, so no other client's
/// `SCRIPT FLUSH` can come between the load and the invocations: none of them can fail with
/// `NOSCRIPT`. As Redis defines for transactions, a command or invocation that fails while
/// `EXEC` runs them does not stop the others; its error comes back in its place.
///
/// [`query`](Self::query) returns `Ok(None)` when the transaction did not run because a key the
/// connection `WATCH`es changed (Redis's nil `EXEC` reply).
///
/// For one server only: on the `redis` crate's cluster connections `query` refuses to run
/// ([`Error::ClusterConnection`]; see [Not on cluster connections](crate::pipeline#not-on-cluster-connections)).
/// A transaction's keys must all live on one node anyway; on a cluster, send it on a connection
/// to that node, or use `redis_script::batch::ClusterBatch`.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::ScriptTransaction;
///
/// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
/// let mut transaction = ScriptTransaction::new();
/// let count = transaction.invoke(&Incr { counter: "visits" });
/// transaction.command::<()>(redis::cmd("EXPIRE").arg("visits").arg(60));
/// if let Some(replies) = transaction.query(connection)? {
///     println!("{} visits", replies.get(count)?);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ScriptTransaction {
    /// `MULTI`/`EXEC` are added by `redis::Pipeline` itself (atomic mode).
    pipeline: redis::Pipeline,
    /// One entry per command sent between `MULTI` and `EXEC`.
    sent: Vec<Sent>,
    /// The scripts and libraries loaded since the start or the last `SCRIPT FLUSH` /
    /// `FUNCTION FLUSH` / `FUNCTION DELETE` in the transaction, and the index in `sent` of the
    /// `SCRIPT LOAD` or `FUNCTION LOAD`.
    loaded: Vec<(LoadKey, usize)>,
    added: usize,
    invocations: usize,
}

/// One command of a transaction, as sent between `MULTI` and `EXEC`.
#[derive(Clone, Copy, Debug)]
enum Sent {
    /// A `SCRIPT LOAD` or `FUNCTION LOAD` the transaction added: its reply is not the
    /// caller's.
    Load(&'static ScriptInfo),
    /// A command the caller added.
    Command,
    /// An invocation; `load` is the index in `sent` of the `SCRIPT LOAD` it relies on, and
    /// `first` whether that load was sent for it (just before it).
    Invocation {
        script: &'static ScriptInfo,
        load: usize,
        first: bool,
    },
}

impl Default for ScriptTransaction {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptTransaction {
    /// An empty transaction.
    ///
    /// ```
    /// assert!(redis_script::ScriptTransaction::new().is_empty());
    /// ```
    pub fn new() -> Self {
        let mut pipeline = redis::Pipeline::new();
        pipeline.atomic();
        ScriptTransaction {
            pipeline,
            sent: Vec::new(),
            loaded: Vec::new(),
            added: 0,
            invocations: 0,
        }
    }

    /// Adds an invocation of `script` (sent as `EVALSHA`, after a `SCRIPT LOAD` the first time
    /// the script appears).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// transaction.invoke(&Incr { counter: "a" });
    /// transaction.invoke(&Incr { counter: "b" });
    /// assert_eq!(transaction.len(), 2);
    /// assert_eq!(transaction.as_pipeline().len(), 3); // SCRIPT LOAD, EVALSHA, EVALSHA
    /// ```
    pub fn invoke<S: Script + ?Sized>(&mut self, script: &S) -> Ticket<S::Output> {
        self.add_invocation(ScriptInfo::of::<S>(), script.evalsha_command())
    }

    /// Adds a call of the function `function` (sent as `FCALL`, `FCALL_RO` for a `no-writes`
    /// function, after a `FUNCTION LOAD` of its library the first time the library appears).
    ///
    /// The load is inside the transaction, so no other client's `FUNCTION FLUSH` can come
    /// between it and the calls: none of them can miss the library. When the server has the
    /// library already, the load fails with its own reply (`Library ... already exists`),
    /// which is dropped, and the rest of the transaction runs (see the
    /// [module documentation](crate::pipeline#functions)).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() {
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// transaction.invoke_function(&Transfer { from: "{b}:a", to: "{b}:b", amount: 1 });
    /// transaction.invoke_function(&Transfer { from: "{b}:b", to: "{b}:a", amount: 1 });
    /// assert_eq!(transaction.len(), 2);
    /// assert_eq!(transaction.as_pipeline().len(), 3); // FUNCTION LOAD, FCALL, FCALL
    /// # }
    /// ```
    pub fn invoke_function<F: Function + ?Sized>(&mut self, function: &F) -> Ticket<F::Output> {
        self.add_invocation(ScriptInfo::of_function::<F>(), function.fcall_command())
    }

    fn add_invocation<T>(&mut self, script: &'static ScriptInfo, command: Cmd) -> Ticket<T> {
        let key = script.load_key();
        let known = self.loaded.iter().find(|(loaded, _)| *loaded == key);
        let (load, first) = match known {
            Some(&(_, load)) => (load, false),
            None => {
                let load = self.sent.len();
                self.pipeline.add_command(script.load_command());
                self.sent.push(Sent::Load(script));
                self.loaded.push((key, load));
                (load, true)
            }
        };
        self.pipeline.add_command(command);
        self.sent.push(Sent::Invocation {
            script,
            load,
            first,
        });
        self.invocations += 1;
        self.added += 1;
        Ticket::new(self.added - 1)
    }

    /// Adds an ordinary command; its reply converts into `T`.
    ///
    /// ```
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// let moved = transaction.command::<bool>(redis::cmd("RENAMENX").arg("a").arg("b"));
    /// assert_eq!(moved.index(), 0);
    /// ```
    pub fn command<T: FromRedisValue>(&mut self, command: impl Borrow<Cmd>) -> Ticket<T> {
        let command = command.borrow();
        if is_script_flush(command) || is_function_removal(command) {
            self.loaded.clear();
        }
        self.pipeline.add_command(command.clone());
        self.sent.push(Sent::Command);
        self.added += 1;
        Ticket::new(self.added - 1)
    }

    /// The number of invocations and commands added.
    ///
    /// ```
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// transaction.command::<()>(redis::cmd("PING"));
    /// assert_eq!(transaction.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.added
    }

    /// Whether nothing was added.
    ///
    /// ```
    /// assert!(redis_script::ScriptTransaction::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// The commands exactly as they go to the server between `MULTI` and `EXEC` (the pipeline is
    /// atomic, so `redis` adds those two).
    ///
    /// ```
    /// let transaction = redis_script::ScriptTransaction::new();
    /// assert!(transaction.as_pipeline().is_transaction());
    /// ```
    pub fn as_pipeline(&self) -> &redis::Pipeline {
        &self.pipeline
    }

    /// Runs the transaction on a synchronous connection. `Ok(None)` means it did not run because
    /// a `WATCH`ed key changed. A command Redis rejects while queueing (an unknown command, a
    /// wrong number of arguments) aborts the whole transaction, as Redis defines, and is returned
    /// as [`Error::TransactionDiscarded`]; a transaction refused because another script is
    /// running or memory is full is returned as [`Error::Busy`] or [`Error::OutOfMemory`], as a
    /// single call would be, with `ticket` the index of the caller's first refused invocation.
    /// Nothing of a refused transaction ran ([`Error::ran`] is [`Ran::No`](crate::Ran)). When the
    /// connection fails with the transaction in flight, the error is [`Error::Interrupted`]:
    /// every entry unknown, all of them run or none ([`Replies::is_atomic`]).
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// use redis_script::Error;
    ///
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// let count = transaction.invoke(&Incr { counter: "visits" });
    /// match transaction.query(connection) {
    ///     Err(Error::Busy { ticket, .. }) => {
    ///         assert_eq!(ticket, Some(count.index()));
    ///         // Nothing ran: send it again once the other script is done.
    ///     }
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # fn run(connection: &mut redis::Connection) -> Result<(), redis_script::Error> {
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// let count = transaction.invoke(&Incr { counter: "visits" });
    /// let replies = transaction.query(connection)?.expect("nothing is WATCHed");
    /// # Ok(()) }
    /// ```
    pub fn query<C>(&self, connection: &mut C) -> Result<Option<Replies>, Error>
    where
        C: redis::ConnectionLike + ?Sized,
    {
        let span = self.span();
        let _entered = span.entered_guard();
        refuse_cluster::<C>("ScriptTransaction")?;
        if self.is_empty() {
            return Ok(Some(Replies::new(Vec::new(), Vec::new())));
        }
        self.check_slots()?;
        let packed = self.pipeline.get_packed_pipeline();
        let _children = span.children(self.invocation_spans());
        let result = connection.req_packed_commands(&packed, self.sent.len() + 1, 1);
        let result = result.map_err(|error| crate::invoke::close_on_parse_error(connection, error));
        let mut values = result.map_err(|error| self.failed(error))?;
        self.replies(values.pop())
    }

    /// Runs the transaction on an asynchronous connection; see [`query`](Self::query). On a
    /// multiplexed connection, `WATCH` is shared by every user of the connection: use a
    /// dedicated connection for optimistic locking.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # async fn run(connection: &mut redis::aio::MultiplexedConnection) -> Result<(), redis_script::Error> {
    /// let mut transaction = redis_script::ScriptTransaction::new();
    /// let count = transaction.invoke(&Incr { counter: "visits" });
    /// if let Some(replies) = transaction.query_async(connection).await? {
    ///     println!("{}", replies.get(count)?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn query_async<C>(&self, connection: &mut C) -> Result<Option<Replies>, Error>
    where
        C: redis::aio::ConnectionLike,
    {
        let span = self.span();
        let children = &span;
        let run = async {
            refuse_cluster::<C>("ScriptTransaction")?;
            if self.is_empty() {
                return Ok(Some(Replies::new(Vec::new(), Vec::new())));
            }
            self.check_slots()?;
            let _children = children.children(self.invocation_spans());
            let mut values = connection
                .req_packed_commands(&self.pipeline, self.sent.len() + 1, 1)
                .await
                .map_err(|error| self.failed(error))?;
            self.replies(values.pop())
        };
        span.instrument(run).await
    }

    /// The error of a transaction whose request failed. One that says nothing ran (the
    /// server refused a command while queueing, so `EXEC` ran nothing) stays as it is; any
    /// other (I/O, a timeout) leaves every entry unknown: the `EXEC` ran whole or not at all.
    /// A transaction that failed: refused by the server (nothing ran) or unreadable, as
    /// [`refusal`](Self::refusal) reports it; a reply lost on the way, as [`Error::Interrupted`].
    fn failed(&self, error: RedisError) -> Error {
        if error.kind() == ErrorKind::Parse || crate::error::ran_of(&error) == crate::Ran::No {
            return self.refusal(error);
        }
        self.interrupted(error)
    }

    fn interrupted(&self, error: RedisError) -> Error {
        let error = Error::Redis(error);
        if error.ran() == crate::Ran::No {
            return error;
        }
        let Error::Redis(error) = error else {
            return error;
        };
        let scripts = self
            .sent
            .iter()
            .filter_map(|sent| match sent {
                Sent::Load(_) => None,
                Sent::Command => Some(None),
                Sent::Invocation { script, .. } => Some(Some(*script)),
            })
            .collect();
        interrupted_first(scripts, error, true)
    }

    /// Turns `EXEC`'s reply into the caller's replies, dropping those of the added `SCRIPT LOAD`s.
    /// A `SCRIPT LOAD` that failed inside `EXEC` (a source the server cannot compile, a full
    /// memory) leaves its script's `EVALSHA`s to fail with `NOSCRIPT`; each of those gets the
    /// load's error instead, which says what went wrong, and is reported not run: `NOSCRIPT`
    /// ran nothing.
    fn replies(&self, exec: Option<Value>) -> Result<Option<Replies>, Error> {
        let items = match exec {
            Some(Value::Nil) => return Ok(None),
            Some(Value::Array(items)) if items.len() == self.sent.len() => items,
            Some(Value::ServerError(error)) => return Err(self.refusal(error.into())),
            other => {
                return Err(client_error(
                    "unexpected EXEC reply",
                    format!(
                        "expected {} replies in an array, got {other:?}",
                        self.sent.len()
                    ),
                ));
            }
        };
        let mut values = Vec::with_capacity(self.added);
        let mut scripts = Vec::with_capacity(self.added);
        // Allocated only when a load failed (the rare case).
        let mut not_run: Vec<bool> = Vec::new();
        // A load comes before every invocation that relies on it, so its failure is known by
        // then; only failures are kept (and cloned), the replies themselves are moved.
        let mut failed_loads: Vec<(usize, Value)> = Vec::new();
        for (index, (value, sent)) in items.into_iter().zip(&self.sent).enumerate() {
            match *sent {
                Sent::Load(script) => {
                    if script.load_failed(&value) {
                        failed_loads.push((index, value));
                    }
                }
                Sent::Command => {
                    values.push(value);
                    scripts.push(None);
                }
                Sent::Invocation { script, load, .. } => {
                    let failed_load = || {
                        failed_loads
                            .iter()
                            .find(|(at, _)| *at == load)
                            .map(|(_, failure)| failure.clone())
                    };
                    let value = match failed_load() {
                        Some(failure) if script.missed(&value) => {
                            not_run.resize(values.len(), false);
                            not_run.push(true);
                            failure
                        }
                        _ => value,
                    };
                    values.push(value);
                    scripts.push(Some(script));
                }
            }
        }
        Ok(Some(
            Replies::new(values, scripts).with_transaction_not_run(not_run),
        ))
    }

    /// The caller's view of a transaction the server refused whole (`EXECABORT`), as a single
    /// call would report it: [`Error::Busy`] or [`Error::OutOfMemory`], naming the caller's
    /// first refused invocation by its ticket. The `redis` crate reports the commands refused
    /// while queueing with their position after `MULTI`, which counts the `SCRIPT LOAD`s and
    /// `FUNCTION LOAD`s this type adds; a refused load stands for the invocation it was sent
    /// for. Any other error is passed on (a parse error as [`Error::ReplyUnreadable`]).
    fn refusal(&self, error: RedisError) -> Error {
        let first_invocation = || {
            self.sent.iter().find_map(|sent| match sent {
                Sent::Invocation { script, .. } => Some(script.path),
                Sent::Load(_) | Sent::Command => None,
            })
        };
        // `EXEC` itself refused: no entry in particular.
        if let Some(refusal) = crate::error::Refusal::of_exec(&error)
            && let Some(path) = first_invocation()
        {
            return refusal.error(path, None, error);
        }
        if error.code() == Some("EXECABORT")
            && let Some(reason) = error.detail()
        {
            return Error::TransactionDiscarded {
                ticket: None,
                reason: reason.to_owned(),
                source: error,
            };
        }
        let aborted = error.kind() == ErrorKind::Server(redis::ServerErrorKind::ExecAbort)
            && error.detail().is_none();
        if !aborted {
            return Error::from_wire(error);
        }
        let Some(refused) = error.clone().into_server_errors() else {
            return Error::from_wire(error);
        };
        let mut refused: Vec<&(usize, redis::ServerError)> = refused.iter().collect();
        refused.sort_by_key(|(index, _)| *index);
        for &&(index, ref server_error) in &refused {
            let Some(refusal) = crate::error::Refusal::of_text(
                server_error.code(),
                server_error.details().unwrap_or(""),
            ) else {
                continue;
            };
            if let Some((ticket, path)) = self.invocation_at(index) {
                return refusal.error(path, Some(ticket), error);
            }
        }
        match refused.first() {
            Some((index, server_error)) => Error::TransactionDiscarded {
                ticket: Some(self.ticket_at(*index)),
                reason: server_error.to_string(),
                source: error,
            },
            None => Error::TransactionDiscarded {
                ticket: None,
                reason: "EXECABORT".into(),
                source: error,
            },
        }
    }

    /// The caller's ticket of the entry sent at `index` after `MULTI`: the loads this type adds
    /// do not count, and a load counts as the first invocation relying on it.
    fn ticket_at(&self, index: usize) -> usize {
        match self.invocation_at(index) {
            Some((ticket, _)) => ticket,
            None => self.sent[..index.min(self.sent.len())]
                .iter()
                .filter(|sent| !matches!(sent, Sent::Load(_)))
                .count(),
        }
    }

    /// The caller's ticket and Lua file of the invocation that the command at `index` (after
    /// `MULTI`) is or was sent for: a load counts as the first invocation relying on it.
    fn invocation_at(&self, index: usize) -> Option<(usize, &'static str)> {
        let ticket = |at: usize| {
            self.sent[..at]
                .iter()
                .filter(|sent| !matches!(sent, Sent::Load(_)))
                .count()
        };
        match self.sent.get(index)? {
            Sent::Invocation { script, .. } => Some((ticket(index), script.path)),
            Sent::Load(_) => self
                .sent
                .iter()
                .enumerate()
                .skip(index + 1)
                .find_map(|(at, sent)| match sent {
                    Sent::Invocation { script, load, .. } if *load == index => {
                        Some((ticket(at), script.path))
                    }
                    _ => None,
                }),
            Sent::Command => None,
        }
    }

    fn check_slots(&self) -> Result<(), Error> {
        check_all_slots(
            self.pipeline.cmd_iter(),
            self.sent.iter().map(|sent| match sent {
                Sent::Invocation { script, .. } => Some(*script),
                Sent::Load(_) | Sent::Command => None,
            }),
        )
    }

    fn span(&self) -> crate::observe::Span {
        crate::observe::Span::batch("transaction", self.invocations, self.added)
    }

    /// What the per-invocation spans show: the fallback field says whether a `SCRIPT LOAD` was
    /// sent for the invocation.
    fn invocation_spans(&self) -> impl Iterator<Item = (&ScriptInfo, &Cmd, bool)> {
        self.pipeline
            .cmd_iter()
            .zip(&self.sent)
            .filter_map(|(command, sent)| match sent {
                Sent::Invocation { script, first, .. } => Some((*script, command, *first)),
                Sent::Load(_) | Sent::Command => None,
            })
    }
}

/// Adds typed script invocations to a [`redis::Pipeline`], for code that reads pipeline
/// replies as tuples.
///
/// Two ways, both exactly once and in order whatever `SCRIPT FLUSH` does:
///
/// - [`evalsha_script`](Self::evalsha_script) adds the invocation as `EVALSHA`; send the
///   pipeline with [`query_scripts`](Self::query_scripts) /
///   [`query_scripts_async`](Self::query_scripts_async), which recover from `NOSCRIPT` as
///   [`ScriptPipeline`] does (plain pipelines) or add a `SCRIPT LOAD` inside `MULTI` as
///   [`ScriptTransaction`] does (`atomic()` ones), and then hand the replies to `redis`'s own
///   conversion (`ignore()`, `ignore_errors()`, tuples). Only the SHA1 goes on the wire per
///   invocation: the fast way, and the only one that does not send a large script's source
///   with every invocation. Sent with `redis`'s plain `query` instead, a flush would surface
///   as `NOSCRIPT` errors, after later commands ran: do not.
/// - [`eval_script`](Self::eval_script) adds it as `EVAL` with the source (`EVAL_RO` for
///   `no-writes`), which never fails with `NOSCRIPT`, so `redis`'s own `query` needs no
///   recovery; it costs the source's bytes and a server-side SHA1 of them per invocation.
///
/// Replies are read with `redis`'s conversions, so a script's error is a plain
/// [`redis::RedisError`], and the runtime slot guard does not run; use [`ScriptPipeline`] for
/// both. In a plain pipeline an invocation answered `NOSCRIPT` before something that ran after
/// it is not sent again (that would reorder it): it keeps its `NOSCRIPT` reply, which means it
/// did not run (with `ignore_errors()` you see which; see [`Error::NotRun`]).
///
/// Not for cluster connections: `redis`'s `query` on one resends the whole pipeline on
/// `MOVED`/`ASK` (running invocations twice) and, in the synchronous connection, fails the whole
/// pipeline for one error reply. Use `redis_script::batch::ClusterBatch` on a cluster.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::PipelineExt;
///
/// # fn run(connection: &mut redis::Connection) -> redis::RedisResult<()> {
/// let (first, second): (i64, i64) = redis::pipe()
///     .evalsha_script(&Incr { counter: "visits" })
///     .cmd("SET").arg("seen").arg(1).ignore()
///     .evalsha_script(&Incr { counter: "visits" })
///     .query_scripts(connection)?;
/// assert_eq!(second, first + 1);
/// # Ok(()) }
/// ```
pub trait PipelineExt {
    /// Adds one invocation of `script` as `EVAL`; see the [trait documentation](PipelineExt).
    /// (`redis::Pipeline::invoke_script` is `redis`'s own, for [`redis::Script`].)
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::PipelineExt;
    ///
    /// let mut pipeline = redis::pipe();
    /// pipeline.eval_script(&Incr { counter: "visits" });
    /// assert_eq!(pipeline.len(), 1);
    /// ```
    fn eval_script<S: Script + ?Sized>(&mut self, script: &S) -> &mut Self;

    /// Adds one invocation of `script` as `EVALSHA`, for
    /// [`query_scripts`](Self::query_scripts); see the [trait documentation](PipelineExt).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::PipelineExt;
    ///
    /// let mut pipeline = redis::pipe();
    /// pipeline.evalsha_script(&Incr { counter: "visits" });
    /// let sent = pipeline.cmd_iter().next().unwrap();
    /// assert_eq!(sent.args_iter().count(), 4); // EVALSHA <sha1> 1 visits
    /// ```
    fn evalsha_script<S: Script + ?Sized>(&mut self, script: &S) -> &mut Self;

    /// Sends the pipeline on a synchronous connection, recovering its `EVALSHA`s of derived
    /// scripts from `NOSCRIPT` (see the [trait documentation](PipelineExt)), and converts the
    /// replies as `redis::Pipeline::query` does.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::PipelineExt;
    ///
    /// # fn run(connection: &mut redis::Connection) -> redis::RedisResult<()> {
    /// let counts: Vec<i64> = redis::pipe()
    ///     .atomic()
    ///     .evalsha_script(&Incr { counter: "a" })
    ///     .evalsha_script(&Incr { counter: "b" })
    ///     .query_scripts(connection)?;
    /// # Ok(()) }
    /// ```
    fn query_scripts<T, C>(&self, connection: &mut C) -> redis::RedisResult<T>
    where
        T: FromRedisValue,
        C: redis::ConnectionLike + ?Sized;

    /// [`query_scripts`](Self::query_scripts) on an asynchronous connection.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::PipelineExt;
    ///
    /// # async fn run(connection: &mut redis::aio::MultiplexedConnection) -> redis::RedisResult<()> {
    /// let counts: Vec<i64> = redis::pipe()
    ///     .evalsha_script(&Incr { counter: "a" })
    ///     .evalsha_script(&Incr { counter: "b" })
    ///     .query_scripts_async(connection)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn query_scripts_async<T, C>(
        &self,
        connection: &mut C,
    ) -> impl std::future::Future<Output = redis::RedisResult<T>> + Send
    where
        T: FromRedisValue,
        C: redis::aio::ConnectionLike + Send;
}

impl PipelineExt for redis::Pipeline {
    fn eval_script<S: Script + ?Sized>(&mut self, script: &S) -> &mut Self {
        self.add_command(eval_command(script))
    }

    fn evalsha_script<S: Script + ?Sized>(&mut self, script: &S) -> &mut Self {
        self.add_command(script.evalsha_command())
    }

    fn query_scripts<T, C>(&self, connection: &mut C) -> redis::RedisResult<T>
    where
        T: FromRedisValue,
        C: redis::ConnectionLike + ?Sized,
    {
        let mut recovering = crate::ext::Recovering {
            inner: &mut *connection,
            pipeline: self,
        };
        let result = self.query(&mut recovering);
        result.map_err(|error| crate::invoke::close_on_parse_error(connection, error))
    }

    async fn query_scripts_async<T, C>(&self, connection: &mut C) -> redis::RedisResult<T>
    where
        T: FromRedisValue,
        C: redis::aio::ConnectionLike + Send,
    {
        let mut recovering = crate::ext::RecoveringAsync { inner: connection };
        self.query_async(&mut recovering).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_script_flush() {
        assert!(is_script_flush(redis::cmd("SCRIPT").arg("FLUSH")));
        assert!(is_script_flush(
            redis::cmd("script").arg("flush").arg("ASYNC")
        ));
        assert!(!is_script_flush(
            redis::cmd("SCRIPT").arg("LOAD").arg("return 1")
        ));
        assert!(!is_script_flush(&redis::cmd("FLUSHALL")));
    }

    fn server_error(text: &[u8]) -> Value {
        match redis::parse_redis_value(text) {
            Ok(value @ Value::ServerError(_)) => value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_entry_says_what_is_known_of_it() {
        let info = &ScriptInfo {
            name: "X",
            path: "lua/x.lua",
            source: "return 1",
            sha1: "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            read_only: false,
            guard_slots: true,
            slot_args: &[],
            may_reply_own_error: true,
            function: None,
        };
        let lost = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let replies = Replies::with_outcomes(
            vec![
                Ok(Value::Int(1)),
                Ok(server_error(
                    b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
                )),
                Ok(server_error(b"-NOSCRIPT No matching script.\r\n")),
                Err(lost.clone()),
                Ok(Value::Okay),
            ],
            vec![Some(info), Some(info), Some(info), Some(info), None],
            vec![
                Outcome::Replied,
                Outcome::Replied,
                Outcome::NotRun,
                Outcome::Unknown,
                Outcome::Replied,
            ],
            false,
        );
        let outcomes: Vec<_> = (0..6).map(|index| replies.outcome(index)).collect();
        assert_eq!(
            outcomes,
            [
                Some(Outcome::Replied),
                Some(Outcome::Replied),
                Some(Outcome::NotRun),
                Some(Outcome::Unknown),
                Some(Outcome::Replied),
                None,
            ]
        );
        let ran: Vec<_> = (0..6).map(|index| replies.ran(index)).collect();
        use crate::Ran::{Maybe, No, Yes};
        assert_eq!(
            ran,
            [Some(Yes), Some(No), Some(No), Some(Maybe), Some(Yes), None]
        );
        assert_eq!(replies.not_run().collect::<Vec<_>>(), [2]);
        assert_eq!(replies.unknown().collect::<Vec<_>>(), [3]);
        assert_eq!(replies.get(Ticket::<i64>::new(0)).ok(), Some(1));
        let busy = replies.get(Ticket::<i64>::new(1)).expect_err("BUSY");
        assert!(matches!(busy, Error::Busy { .. }), "{busy:?}");
        let not_run = replies.get(Ticket::<i64>::new(2)).expect_err("not run");
        assert!(
            matches!(
                not_run,
                Error::NotRun {
                    path: "lua/x.lua",
                    ..
                }
            ),
            "{not_run:?}"
        );
        let unknown = replies.get(Ticket::<i64>::new(3)).expect_err("unknown");
        assert_eq!(unknown.ran(), Maybe);
        assert!(unknown.is_io_error(), "{unknown}");
        assert!(replies.value(3).is_none());

        let error = Error::Interrupted {
            replies: Box::new(replies),
            source: lost,
        };
        assert_eq!(error.ran(), Maybe);
        assert!(error.is_io_error());
        let text = error.to_string();
        assert!(
            text.contains("of its 5 entries, 3 replied, 1 did not run and 1 may have run"),
            "{text}"
        );

        // Every entry replied: nothing is kept per entry.
        let complete = Replies::with_outcomes(
            vec![Ok(Value::Int(1))],
            vec![Some(info)],
            vec![Outcome::Replied],
            false,
        );
        assert!(complete.outcomes.is_empty());
        assert_eq!(complete.outcome(0), Some(Outcome::Replied));
    }

    #[test]
    fn server_errors_and_conversions() {
        let info = &ScriptInfo {
            name: "X",
            path: "lua/x.lua",
            source: "return 1",
            sha1: "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            read_only: false,
            guard_slots: true,
            slot_args: &[],
            may_reply_own_error: true,
            function: None,
        };
        assert_eq!(
            convert_reply::<i64>(&Ok(Value::Int(3)), Some(info)).ok(),
            Some(3)
        );
        let text = Ok(Value::BulkString(b"x".to_vec()));
        let error = convert_reply::<i64>(&text, Some(info));
        assert!(matches!(
            error,
            Err(Error::Conversion {
                path: "lua/x.lua",
                ..
            })
        ));
        let error = convert_reply::<i64>(&text, None);
        assert!(matches!(error, Err(Error::Redis(_))));
    }
}
