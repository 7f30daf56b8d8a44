use std::fmt;

use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::{Outcome, Replies, SourceSegment};

/// Everything that can go wrong when a script is invoked.
///
/// Match on the variant to tell what happened; every variant that comes from the server keeps
/// the original [`redis::RedisError`] as its [`source`](std::error::Error::source).
///
/// What is safe to retry is what certainly did not run: [`Error::ran`] says [`Ran::No`] (a
/// refusal such as [`Error::Busy`], [`Error::OutOfMemory`] or [`Error::NotRun`]). An I/O error
/// or an [`Error::ReplyUnreadable`] is not: the request reached (or may have reached) the
/// server, and the script may have run (and replicated). Retry those only for a script that is
/// idempotent by construction, e.g. one that records a request id and does nothing the second
/// time. A pipeline or transaction cut by a failing connection says it per entry
/// ([`Error::Interrupted`]).
///
/// ```
/// use redis_script::{Error, Ran};
///
/// /// `idempotent`: the script records its request id and does nothing the second time.
/// fn safe_to_retry(error: &Error, idempotent: bool) -> bool {
///     match error.ran() {
///         // Refused, or never sent: sending again cannot do the work twice.
///         Ran::No => true,
///         // The reply was lost; it may have run, completely.
///         Ran::Maybe => idempotent,
///         // It ran and failed: again would fail again, or redo what it wrote before failing.
///         Ran::Yes => false,
///     }
/// }
/// # let _ = safe_to_retry;
/// ```
///
/// `examples/idempotent_retry.rs` runs this rule against a real server.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The script failed while running: a Lua runtime error, `error(...)`, or a failed
    /// `redis.call`. The server's `user_script:N` is translated into the Lua file and line.
    Script(ScriptError),
    /// The server is busy running another script (`BUSY`) and refused this one; nothing ran.
    /// Retry later, or stop the other one with `SCRIPT KILL`.
    ///
    /// Only the server's own wording counts (`BUSY Redis is busy running ...`, Valkey's
    /// `BUSY Valkey is busy running ...`): a script that returns
    /// `redis.error_reply('BUSY ...')` in other words ran, and is an [`Error::Redis`].
    ///
    /// A [`ScriptTransaction`](crate::ScriptTransaction) sent while the server is busy is
    /// refused whole (`EXECABORT`: the server refuses every command queued after `MULTI`), and
    /// reported as this variant too, with `ticket` set.
    ///
    /// ```
    /// let error = redis_script::Error::Busy {
    ///     path: "lua/incr.lua",
    ///     ticket: None,
    ///     source: redis::RedisError::from((redis::ErrorKind::Client, "BUSY")),
    /// };
    /// assert_eq!(error.ran(), redis_script::Ran::No);
    /// ```
    Busy {
        /// The Lua file of the script that was refused.
        path: &'static str,
        /// In a refused [`ScriptTransaction`](crate::ScriptTransaction), the
        /// [`Ticket::index`](crate::Ticket::index) of the caller's first invocation the server
        /// refused (the script of `path`); `None` for a single call or a pipeline entry, and
        /// for a transaction whose `EXEC` itself was refused (no entry in particular).
        ticket: Option<usize>,
        /// The server's reply (for a transaction, the refusal of that entry, or the
        /// `EXECABORT`).
        source: RedisError,
    },
    /// The server is out of memory (`maxmemory` reached, with a policy that cannot evict) and
    /// refused the script (`OOM command not allowed when used memory > 'maxmemory'.`): it
    /// **wrote nothing**, so sending it again later is safe.
    ///
    /// Redis checks memory at one of two moments, both covered: before running a script with
    /// a `#!lua` line (unless `no-writes` or `allow-oom`), and a function, so nothing of it
    /// runs; and, for a script without a `#!` line, at its first write command, which fails
    /// and raises the error in the script only if the script has run no write command yet (it
    /// may have read keys before). So either way no key changed. Only the server's wording
    /// counts: a script that returns `redis.error_reply('OOM ...')` in other words is an
    /// [`Error::Redis`]. What is left: a script that catches the refusal with `redis.pcall`,
    /// writes with a command that is allowed when memory is full (`DEL`), then raises or
    /// returns the refusal word for word.
    ///
    /// A [`ScriptTransaction`](crate::ScriptTransaction) sent while memory is full is refused
    /// whole (`EXECABORT`: the server refuses every command queued after `MULTI`), and reported
    /// as this variant too, with `ticket` set.
    ///
    /// ```
    /// use redis_script::{Error, Ran};
    ///
    /// let error = Error::OutOfMemory {
    ///     path: "lua/incr.lua",
    ///     ticket: None,
    ///     source: redis::RedisError::from((redis::ErrorKind::Client, "OOM")),
    /// };
    /// assert_eq!(error.ran(), Ran::No);
    /// assert!(error.to_string().contains("wrote nothing"));
    /// ```
    OutOfMemory {
        /// The Lua file of the script (or function library) that was refused.
        path: &'static str,
        /// As for [`Error::Busy`]: in a refused transaction, the
        /// [`Ticket::index`](crate::Ticket::index) of the caller's first invocation the server
        /// refused; `None` otherwise.
        ticket: Option<usize>,
        /// The server's reply.
        source: RedisError,
    },
    /// The server's reply could not be read: the `redis` crate failed to parse it (kind
    /// [`redis::ErrorKind::Parse`]). The request was sent, so the script **may have run**
    /// (and in a pipeline or transaction, every entry may have). [`Error::ran`] is
    /// [`Ran::Maybe`].
    ///
    /// The known cause: an error reply that is not valid UTF-8, e.g. a script's
    /// `redis.error_reply(ARGV[1])` or `error('bad key ' .. KEYS[1])` with a binary key. The
    /// bytes are valid RESP; the `redis` crate (1.8) reads the text of an error (and of a
    /// status reply) as UTF-8 and fails on anything else, so the fix belongs there. Until then
    /// this library keeps the failure from spreading:
    ///
    /// - On a synchronous connection the crate keeps the unreadable bytes and would fail every
    ///   later call the same way while the server still ran each one. So after such a reply
    ///   this library sends `QUIT` on it: the server closes the connection, and nothing sent
    ///   on it afterwards runs (later calls fail, with this error or an I/O error). Open a new
    ///   connection. (Not on the crate's cluster connections, which reconnect by themselves:
    ///   see [`cluster`](crate::cluster).)
    /// - An asynchronous [`MultiplexedConnection`](redis::aio::MultiplexedConnection) closes
    ///   itself: this call gets this error, requests in flight on it get an I/O error (they
    ///   may have run), and later ones fail without being sent. A `ConnectionManager`
    ///   reconnects by itself, and later calls go out on the new connection.
    ///
    /// `path` is the Lua file of a single call, `None` for a transaction (whose query fails
    /// whole). A plain [`ScriptPipeline`](crate::ScriptPipeline) reports an unreadable reply
    /// as [`Error::Interrupted`] instead, with this parse error as its `source`, saying per
    /// entry what is known (on a synchronous `redis::Connection`, the entries of the chunks
    /// read before it keep their replies, and those never sent did not run);
    /// [`PipelineExt::query_scripts`](crate::PipelineExt::query_scripts) returns the `redis`
    /// crate's parse error itself.
    ///
    /// ```
    /// use redis_script::{Error, Ran};
    ///
    /// let unreadable = redis::parse_redis_value(b"-ERR bad \xff key\r\n").unwrap_err();
    /// assert_eq!(unreadable.kind(), redis::ErrorKind::Parse);
    /// let error = Error::ReplyUnreadable {
    ///     path: Some("lua/incr.lua"),
    ///     source: unreadable,
    /// };
    /// assert_eq!(error.ran(), Ran::Maybe);
    /// assert!(error.to_string().contains("may have run"));
    /// ```
    ReplyUnreadable {
        /// The Lua file of the script, for a single call.
        path: Option<&'static str>,
        /// The `redis` crate's parse error.
        source: RedisError,
    },
    /// A [`ScriptTransaction`](crate::ScriptTransaction) the server discarded whole for a reason
    /// other than [`Busy`](Error::Busy) or [`OutOfMemory`](Error::OutOfMemory): a command refused
    /// while queueing (an unknown command, a wrong number of arguments, an ACL refusal, ...),
    /// so `EXEC` ran nothing. Nothing ran. `ticket` is the caller's index of the first refused
    /// entry (the `redis` crate counts the `SCRIPT LOAD`s this library adds; this does not).
    ///
    /// ```
    /// use redis_script::{Error, Ran};
    ///
    /// let error = Error::TransactionDiscarded {
    ///     ticket: Some(2),
    ///     reason: "ERR wrong number of arguments for 'get' command".into(),
    ///     source: redis::RedisError::from((redis::ErrorKind::Client, "EXECABORT")),
    /// };
    /// assert_eq!(error.ran(), Ran::No);
    /// assert!(error.to_string().contains("entry 2"));
    /// ```
    TransactionDiscarded {
        /// The caller's ticket index of the first entry the server refused, when it named one.
        ticket: Option<usize>,
        /// That entry's refusal, as the server worded it.
        reason: String,
        /// The `redis` crate's error for the discarded transaction.
        source: RedisError,
    },
    /// The server answered `NOSCRIPT` even to the `EVAL` fallback that carries the full source
    /// (sent after the reloads with `SCRIPT LOAD` did not help). Plain Redis never does; a proxy
    /// that forwards `EVAL`, `SCRIPT LOAD` and `EVALSHA` differently can.
    ScriptMissing {
        /// The Lua file of the script.
        path: &'static str,
        /// The server's reply.
        source: RedisError,
    },
    /// The invocation certainly did **not** run, and was not sent again because running it now
    /// would run it after entries added later: in a plain pipeline ([`ScriptPipeline`](crate::ScriptPipeline),
    /// [`PipelineExt::query_scripts`](crate::PipelineExt::query_scripts)) or a cluster batch, the
    /// server answered `NOSCRIPT` (a `SCRIPT FLUSH`, a restart, a server that evicted the script)
    /// and something after it ran all the same: an ordinary command, or an invocation of a script
    /// another client reloaded in between. Invocations answered `NOSCRIPT` with nothing run after
    /// them are sent again, in order, and do not end up here; nor does anything that may have
    /// run. The same goes for an invocation that was never sent (in a cluster batch, one whose
    /// node could not be reached: its error says "not sent"), and for one whose script's
    /// `SCRIPT LOAD` failed (a transaction's inside `EXEC`, a recovery round's), which the
    /// server then answered `NOSCRIPT`. Sending this invocation again is
    /// safe; [`Replies::not_run`](crate::Replies::not_run) lists them all. `source` is the
    /// `NOSCRIPT` reply, the error of the `SCRIPT LOAD` that failed to bring the script back,
    /// or why it was not sent.
    ///
    /// ```
    /// let error = redis_script::Error::NotRun {
    ///     path: "lua/incr.lua",
    ///     source: redis::RedisError::from((redis::ErrorKind::Client, "NOSCRIPT")),
    /// };
    /// assert!(error.to_string().contains("did not run"));
    /// ```
    NotRun {
        /// The Lua file of the script.
        path: &'static str,
        /// Why it did not run.
        source: RedisError,
    },
    /// The connection failed with a [`ScriptPipeline`](crate::ScriptPipeline) or
    /// [`ScriptTransaction`](crate::ScriptTransaction) in flight, or a reply of a plain
    /// pipeline could not be read (`source` is then the parse error, and a synchronous
    /// connection was closed as for [`Error::ReplyUnreadable`]). `replies` holds, per entry
    /// added, what is known of it: its reply ([`Outcome::Replied`]), certainly not run
    /// ([`Outcome::NotRun`]), or [`Outcome::Unknown`] (it may have run); `source` is the error
    /// that cut the batch. Resume without running anything twice by sending again exactly
    /// [`Replies::not_run`], and [`Replies::unknown`] only after checking whether each ran (or
    /// through an idempotent script).
    ///
    /// Which entries can be unknown, and why:
    ///
    /// - **The first round of a plain pipeline on a synchronous `redis::Connection`** (or
    ///   `&mut`, `Box` of one) goes out in chunks of at most 128 commands (and about 64 KB),
    ///   each written while the replies of the one before are read. When it fails, the entries
    ///   of the chunks whose replies were read keep them ([`Outcome::Replied`], or
    ///   [`Outcome::NotRun`] for one answered `NOSCRIPT`), the chunk being read and the one
    ///   written in the same call are unknown (at most 256 entries, in order), and the chunks
    ///   after them were never written: [`Outcome::NotRun`], their error says "never sent".
    /// - **Any other round that failed.** Each entry it sent is unknown: the first round on
    ///   any other connection (asynchronous ones, a `redis::Client`, which opens a connection
    ///   per call, a wrapper type), and a `NOSCRIPT` recovery round. The `redis` crate reads a
    ///   pipeline's replies as a whole and, when a later read fails, drops those it had read
    ///   (the synchronous `Connection::req_packed_commands`; the multiplexed connection gathers
    ///   a pipeline's replies in one buffer that the failure discards): entries that ran and
    ///   replied before the connection broke are unknown too, not replied. When such a first
    ///   round fails, every entry is unknown: 0 to all of them ran.
    /// - **Rounds before it.** A plain pipeline answered `NOSCRIPT` sends its trailing run again
    ///   after a reload (see the [pipeline module](crate::pipeline)). When such a later round
    ///   fails, the entries answered in the earlier rounds keep their replies, those reported
    ///   not run stay [`Outcome::NotRun`], and only the entries of the failed round are unknown.
    /// - **A transaction** ([`Replies::is_atomic`]): every entry is unknown, and they all ran or
    ///   none did, so checking one of them tells for all.
    ///
    /// [`PipelineExt::query_scripts`](crate::PipelineExt::query_scripts) returns a
    /// `redis::RedisError` of the same kind as `source` instead; [`Replies::of_interrupted`]
    /// finds these replies in it. A [`ClusterBatch`](crate::batch) reports the invocations
    /// of a node that failed in the same terms, in the replies it returns.
    ///
    /// ```
    /// use redis_script::{Error, Outcome};
    ///
    /// /// The entries to send again as they are, and those to check first.
    /// fn resume(error: &Error) -> Option<(Vec<usize>, Vec<usize>)> {
    ///     let Error::Interrupted { replies, .. } = error else {
    ///         return None;
    ///     };
    ///     assert!(replies.unknown().all(|index| replies.outcome(index) == Some(Outcome::Unknown)));
    ///     Some((replies.not_run().collect(), replies.unknown().collect()))
    /// }
    /// # let _ = resume;
    /// ```
    Interrupted {
        /// What is known of each entry, in the order added.
        replies: Box<Replies>,
        /// The error that cut the batch (I/O, a timeout, an unreadable reply).
        source: RedisError,
    },
    /// The script ran, but its reply could not be converted into the declared `returns` type.
    /// Whatever the script did has happened.
    Conversion {
        /// The Lua file of the script.
        path: &'static str,
        /// The Rust type the reply was to become.
        expected: &'static str,
        /// What the conversion said.
        source: RedisError,
    },
    /// The invocation's keys are in different Redis Cluster hash slots, so a cluster would refuse
    /// it with `CROSSSLOT` (declared `KEYS` must share one slot, whatever the script's flags).
    /// Nothing was sent.
    ///
    /// Checked before any network I/O for every script with two or more keys whose key
    /// templates' hash tags depend on values, unless it is `#[redis_script(standalone_only)]` or
    /// `#!lua flags=no-cluster`. The derive proves at compile time that the templates share a
    /// hash tag, so this happens only with values that contain `{` or `}` (which move the tag)
    /// or leave a tag empty. A template that starts with a literal tag (`{{archive}}:{}`) fixes
    /// the slot whatever the values, so its invocations skip the check. (Plain `#[key]`s and
    /// plain `#[key(variadic)]` lists compile only for scripts that never run on a cluster,
    /// which are not checked.)
    ///
    /// ```
    /// let error = redis_script::Error::CrossSlot {
    ///     script: "Transfer",
    ///     keys_and_slots: vec![(b"a".to_vec(), 15495), (b"b".to_vec(), 3300)],
    /// };
    /// assert!(error.to_string().contains("\"a\" (slot 15495)"));
    /// ```
    CrossSlot {
        /// The struct of the script.
        script: &'static str,
        /// Every key of the invocation, in `KEYS` order, with its hash slot.
        keys_and_slots: Vec<(Vec<u8>, u16)>,
    },
    /// A [`ScriptPipeline`](crate::ScriptPipeline) or [`ScriptTransaction`](crate::ScriptTransaction)
    /// was given one of the `redis` crate's cluster connections, which would break its
    /// promises (it resends a whole pipeline on `MOVED`/`ASK`); nothing was sent. On a cluster,
    /// use `redis_script::batch::ClusterBatch` (feature `cluster`).
    ///
    /// ```
    /// let error = redis_script::Error::ClusterConnection {
    ///     batch: "ScriptPipeline",
    ///     connection: "redis::cluster::ClusterConnection",
    /// };
    /// assert!(error.to_string().contains("ClusterBatch"));
    /// ```
    ClusterConnection {
        /// `"ScriptPipeline"` or `"ScriptTransaction"`.
        batch: &'static str,
        /// The connection's type, as Rust names it.
        connection: &'static str,
    },
    /// A [`Function`](crate::Function) is not on the server even though its library is: after
    /// `ERR Function not found`, the library was loaded (or found loaded by another client)
    /// and the call sent again, which still found no such function. The server has another
    /// version of the library, without this function (an older or newer deploy: see
    /// [`libraries`](crate::libraries) to find and replace stale libraries); or, on a cluster
    /// connection, where the load and the call are not one transaction, the library was deleted
    /// again in between. Nothing ran.
    ///
    /// ```
    /// use redis_script::Error;
    ///
    /// fn explain(error: &Error) -> Option<String> {
    ///     match error {
    ///         Error::FunctionMissing { function, library, .. } => Some(format!(
    ///             "the server's library {library} predates {function}: deploy it with \
    ///              redis_script::libraries::load_libraries and LibraryPolicy::Replace"
    ///         )),
    ///         _ => None,
    ///     }
    /// }
    /// # let _ = explain;
    /// ```
    FunctionMissing {
        /// The function's name, as `FCALL` calls it.
        function: &'static str,
        /// The library's name.
        library: &'static str,
        /// The library file.
        path: &'static str,
        /// The server's reply to the second call (`ERR Function not found`).
        source: RedisError,
    },
    /// The server has no such function and refused to load its library (`FUNCTION LOAD`): a
    /// function name that another library registers already (function names are global to
    /// the server), a full memory, a replica, missing permissions. Nothing ran.
    ///
    /// ```
    /// use redis_script::Error;
    ///
    /// fn is_configuration_problem(error: &Error) -> bool {
    ///     matches!(error, Error::LibraryLoad { .. } | Error::FunctionMissing { .. })
    /// }
    /// # let _ = is_configuration_problem;
    /// ```
    LibraryLoad {
        /// The library's name.
        library: &'static str,
        /// The library file.
        path: &'static str,
        /// The server's reply to `FUNCTION LOAD`, e.g. `ERR Function transfer already exists`.
        source: RedisError,
    },
    /// Any other failure: I/O, connection, authentication, or a server error raised before the
    /// script ran (e.g. `READONLY`, `CROSSSLOT`), or one the script returned itself with
    /// `redis.error_reply` (Redis passes those on with no line number).
    Redis(RedisError),
}

/// Whether the invocation behind an [`Error`] ran, as far as the caller can know: the answer of
/// [`Error::ran`].
///
/// Retrying is safe only for [`Ran::No`]. [`Ran::Maybe`] means the request reached (or may have
/// reached) the server and its reply was lost; sending it again can do the work twice unless
/// the script is idempotent (e.g. it records a request id and does nothing the second time).
///
/// ```
/// use redis_script::{Error, Ran};
///
/// fn safe_to_send_again(error: &Error) -> bool {
///     error.ran() == Ran::No
/// }
/// # let _ = safe_to_send_again;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ran {
    /// It certainly did not run, or was refused before doing anything: sending it again cannot
    /// do the work twice.
    No,
    /// It ran: completely, or up to a failure (a script's writes before its error stay).
    Yes,
    /// Unknown: the connection failed, timed out or could not read the reply after the request
    /// was sent. It may have run, completely.
    Maybe,
}

impl Error {
    /// Whether the invocation ran: [`Ran::No`] for refusals and checks before sending,
    /// [`Ran::Yes`] for a script's own failure or a reply that does not convert, [`Ran::Maybe`]
    /// when the reply was lost (I/O, timeouts, an unreadable reply) or the error does not tell.
    /// For [`Error::Interrupted`], `Maybe` unless no entry is unknown: its
    /// [`Replies::ran`] tells per entry.
    ///
    /// ```
    /// use redis_script::{Error, Ran};
    ///
    /// let reset = Error::Redis(std::io::Error::other("reset").into());
    /// assert_eq!(reset.ran(), Ran::Maybe);
    /// let busy = Error::Busy {
    ///     path: "lua/incr.lua",
    ///     ticket: None,
    ///     source: redis::RedisError::from((redis::ErrorKind::Client, "BUSY")),
    /// };
    /// assert_eq!(busy.ran(), Ran::No);
    /// ```
    pub fn ran(&self) -> Ran {
        match self {
            Error::Script(_) | Error::Conversion { .. } => Ran::Yes,
            Error::ReplyUnreadable { .. } => Ran::Maybe,
            Error::Busy { .. }
            | Error::OutOfMemory { .. }
            | Error::ScriptMissing { .. }
            | Error::NotRun { .. }
            | Error::CrossSlot { .. }
            | Error::ClusterConnection { .. }
            | Error::FunctionMissing { .. }
            | Error::LibraryLoad { .. }
            | Error::TransactionDiscarded { .. } => Ran::No,
            Error::Redis(error) => ran_of(error),
            Error::Interrupted { replies, .. } => {
                if replies.unknown().next().is_some() {
                    Ran::Maybe
                } else if (0..replies.len()).all(|index| replies.ran(index) == Some(Ran::No)) {
                    Ran::No
                } else {
                    Ran::Yes
                }
            }
        }
    }

    /// Whether the error is an I/O failure, after which the connection may need re-establishing;
    /// a script whose reply was lost this way may or may not have run.
    ///
    /// ```
    /// let error = redis_script::Error::Redis(std::io::Error::other("reset").into());
    /// assert!(error.is_io_error());
    /// ```
    pub fn is_io_error(&self) -> bool {
        match self {
            Error::Redis(error) | Error::Interrupted { source: error, .. } => error.is_io_error(),
            _ => false,
        }
    }

    /// The server's error code (`ERR`, `BUSY`, `WRONGTYPE`, a script's own code, ...), if the
    /// error is a server reply.
    ///
    /// ```
    /// let error = redis_script::Error::Redis(std::io::Error::other("reset").into());
    /// assert_eq!(error.code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Script(error) => error.source.code(),
            // A refused transaction's source is the `EXECABORT`: the code says why.
            Error::Busy { .. } => Some("BUSY"),
            Error::OutOfMemory { .. } => Some("OOM"),
            Error::ReplyUnreadable { source, .. }
            | Error::TransactionDiscarded { source, .. }
            | Error::ScriptMissing { source, .. }
            | Error::FunctionMissing { source, .. }
            | Error::LibraryLoad { source, .. }
            | Error::NotRun { source, .. } => source.code(),
            Error::Redis(error) | Error::Interrupted { source: error, .. } => error.code(),
            Error::Conversion { .. }
            | Error::CrossSlot { .. }
            | Error::ClusterConnection { .. } => None,
        }
    }

    /// The error of a request on the connection (not of a conversion, whose errors have kind
    /// `Parse` as well): a parse error there is [`Error::ReplyUnreadable`], without a path.
    pub(crate) fn from_wire(error: RedisError) -> Self {
        if error.kind() == ErrorKind::Parse {
            return Error::ReplyUnreadable {
                path: None,
                source: error,
            };
        }
        Error::Redis(error)
    }

    /// Sorts a failed reply to the script's `EVALSHA` / `EVAL` into a variant.
    pub(crate) fn from_reply(error: RedisError, path: &'static str, source: &'static str) -> Self {
        if is_noscript_error(&error) {
            return Error::ScriptMissing {
                path,
                source: error,
            };
        }
        if let Some(refusal) = Refusal::of(&error) {
            return refusal.error(path, None, error);
        }
        if error.kind() == ErrorKind::Parse {
            return Error::ReplyUnreadable {
                path: Some(path),
                source: error,
            };
        }
        match ScriptError::from_server(error, path, source) {
            Ok(script_error) => Error::Script(script_error),
            Err(error) => Error::Redis(error),
        }
    }
}

/// The detail of the server's `NOSCRIPT` reply (`NOSCRIPT No matching script. Please use
/// EVAL.`, the same on Redis 7 and 8 and Valkey 8 and 9). A script's own
/// `redis.error_reply('NOSCRIPT ...')` in other words ran, and must not be sent again.
const NOSCRIPT_DETAIL: &str = "No matching script";

/// Whether `error` is the server saying it lacks the script (so nothing ran).
pub(crate) fn is_noscript_error(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
        && error
            .detail()
            .is_some_and(|detail| detail.starts_with(NOSCRIPT_DETAIL))
}

/// [`is_noscript_error`] for a reply inside a pipeline.
pub(crate) fn is_noscript_reply(error: &redis::ServerError) -> bool {
    error.kind() == Some(ServerErrorKind::NoScript)
        && error
            .details()
            .is_some_and(|detail| detail.starts_with(NOSCRIPT_DETAIL))
}

/// A refusal that has a variant of its own: the server did not run the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Busy,
    OutOfMemory,
}

impl Refusal {
    /// The refusal `error` is, in the server's own words only: Redis's and Valkey's `BUSY ...
    /// is busy running a script/module ...` and `OOM command not allowed when used memory >
    /// 'maxmemory'.` (followed, for the `OOM` raised inside a script without a `#!` line, by
    /// ` script: <sha1>, on @user_script:<line>.`). A script's own `error_reply` with these
    /// codes but other words is not one: that script ran.
    pub(crate) fn of(error: &RedisError) -> Option<Refusal> {
        Self::of_text(error.code()?, error.detail().unwrap_or(""))
    }

    pub(crate) fn of_text(code: &str, detail: &str) -> Option<Refusal> {
        match code {
            "BUSY"
                if detail.starts_with("Redis is busy running ")
                    || detail.starts_with("Valkey is busy running ") =>
            {
                Some(Refusal::Busy)
            }
            "OOM" if detail.starts_with(OOM_DETAIL) => Some(Refusal::OutOfMemory),
            _ => None,
        }
    }

    /// The refusal of a transaction `EXEC` itself: `EXECABORT Transaction discarded because
    /// of: BUSY ...` (or `OOM ...`), the form Redis gives when the state changed between
    /// queueing and `EXEC`.
    pub(crate) fn of_exec(error: &RedisError) -> Option<Refusal> {
        if error.code() != Some("EXECABORT") {
            return None;
        }
        let reason = error
            .detail()?
            .strip_prefix("Transaction discarded because of: ")?;
        let (code, detail) = reason.split_once(' ').unwrap_or((reason, ""));
        Self::of_text(code, detail)
    }

    /// The refusal of a transaction the server discarded whole: `EXEC` refused, or the first
    /// command refused while queueing (the `redis` crate's aborted-transaction error, which
    /// lists them with their position after `MULTI`).
    pub(crate) fn of_transaction(error: &RedisError) -> Option<Refusal> {
        if let Some(refusal) = Self::of_exec(error) {
            return Some(refusal);
        }
        // The aborted-transaction error has no detail of its own; a plain `EXECABORT` reply
        // has one.
        if error.kind() != ErrorKind::Server(ServerErrorKind::ExecAbort) || error.detail().is_some()
        {
            return None;
        }
        let refused = error.clone().into_server_errors()?;
        let (_, first) = refused.iter().min_by_key(|(index, _)| *index)?;
        Self::of_text(first.code(), first.details().unwrap_or(""))
    }

    pub(crate) fn error(
        self,
        path: &'static str,
        ticket: Option<usize>,
        source: RedisError,
    ) -> Error {
        match self {
            Refusal::Busy => Error::Busy {
                path,
                ticket,
                source,
            },
            Refusal::OutOfMemory => Error::OutOfMemory {
                path,
                ticket,
                source,
            },
        }
    }
}

/// The detail of the server's `OOM` refusal (Redis 7 and 8, Valkey 8).
const OOM_DETAIL: &str = "command not allowed when used memory > 'maxmemory'";

/// What a bare `redis` error says about whether the request ran. Only refusals that the server
/// gives before running a command count as "no", and only in the server's own words: a script
/// can return any code with `redis.error_reply` after writing (`READONLY`, `NOPERM`, ...), and
/// that script ran. Anything else stays "maybe" unless it is certainly client-side.
pub(crate) fn ran_of(error: &RedisError) -> Ran {
    if Refusal::of(error).is_some() || is_server_refusal(error) || is_not_sent(error) {
        return Ran::No;
    }
    match error.kind() {
        ErrorKind::InvalidClientConfig
        | ErrorKind::AuthenticationFailed
        | ErrorKind::EmptySentinelList
        | ErrorKind::MasterNameNotFoundBySentinel
        | ErrorKind::NoValidReplicasFoundBySentinel
        | ErrorKind::RESP3NotSupported => Ran::No,
        _ => Ran::Maybe,
    }
}

/// The start of the detail of [`not_sent`] errors.
const NOT_SENT: &str = "never sent: the pipeline was cut before this entry went out";

/// The error in place of the reply of an entry that was never sent, because the pipeline was
/// cut (by `cut`) before it went out: it did not run, and [`ran_of`] says so.
pub(crate) fn not_sent(cut: &RedisError) -> RedisError {
    RedisError::from((ErrorKind::Client, "not sent", format!("{NOT_SENT} ({cut})")))
}

fn is_not_sent(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Client
        && error
            .detail()
            .is_some_and(|detail| detail.starts_with(NOT_SENT))
}

/// Whether `error` is one of the refusals Redis and Valkey give before running a command, as
/// they word it (Redis 7.0 to 8.2, Valkey 8 and 9 share these texts up to the server's name).
fn is_server_refusal(error: &RedisError) -> bool {
    let (Some(code), detail) = (error.code(), error.detail().unwrap_or("")) else {
        return false;
    };
    match code {
        "MOVED" | "ASK" => error.redirect_node().is_some(),
        "NOSCRIPT" => detail.starts_with(NOSCRIPT_DETAIL),
        // Without a detail: the `redis` crate's own error for a transaction it saw discarded.
        "EXECABORT" => {
            error.detail().is_none() || detail.starts_with("Transaction discarded because of")
        }
        "LOADING" => detail.contains(" is loading the dataset in memory"),
        "READONLY" => detail.starts_with("You can't write against a read only "),
        "MASTERDOWN" => detail.starts_with("Link with ") && detail.contains(" is down"),
        "MISCONF" => {
            detail.contains(" is configured to save RDB snapshots")
                || detail.starts_with("Errors writing to the AOF file")
        }
        "NOREPLICAS" => detail.starts_with("Not enough good replicas to write"),
        "NOPERM" => detail.contains("o permissions to "),
        "NOAUTH" => detail.starts_with("Authentication required"),
        "TRYAGAIN" => detail.starts_with("Multiple keys request during rehashing of slot"),
        "CROSSSLOT" => detail.starts_with("Keys in request don't hash to the same slot"),
        "CLUSTERDOWN" => {
            detail.starts_with("The cluster is down") || detail.starts_with("Hash slot not served")
        }
        _ => false,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Script(error) => error.fmt(f),
            Error::Busy {
                path,
                ticket,
                source,
            } => {
                write_refused(f, path, *ticket)?;
                write!(
                    f,
                    "the server is busy running another script and refused this one; nothing ran \
                     ({source})"
                )
            }
            Error::OutOfMemory {
                path,
                ticket,
                source,
            } => {
                write_refused(f, path, *ticket)?;
                write!(
                    f,
                    "the server is out of memory (maxmemory) and refused the script; it wrote \
                     nothing ({source})"
                )
            }
            Error::ReplyUnreadable { path, source } => {
                if let Some(path) = path {
                    write!(f, "{path}: ")?;
                }
                write!(
                    f,
                    "the server's reply could not be read ({source}); the request was sent and \
                     may have run. The connection's replies are out of step: a synchronous \
                     connection was closed (QUIT), an asynchronous one closes itself or \
                     reconnects; do not send on it again"
                )
            }
            Error::TransactionDiscarded { ticket, reason, .. } => {
                write!(f, "the server discarded the transaction")?;
                if let Some(ticket) = ticket {
                    write!(f, " for entry {ticket}")?;
                }
                write!(f, " ({reason}); nothing ran")
            }
            Error::ScriptMissing { path, source } => write!(
                f,
                "{path}: the server answered NOSCRIPT even to EVAL with the full source ({source})"
            ),
            Error::NotRun { path, source } => write!(
                f,
                "{path}: the invocation did not run ({source}); sending it again is safe"
            ),
            Error::Interrupted { replies, source } => {
                let count = |wanted: Outcome| {
                    (0..replies.len())
                        .filter(|&index| replies.outcome(index) == Some(wanted))
                        .count()
                };
                if source.kind() == ErrorKind::Parse {
                    write!(
                        f,
                        "a reply of the batch could not be read ({source}); the connection is \
                         out of step (a synchronous one was closed: QUIT)"
                    )?;
                } else {
                    write!(
                        f,
                        "the connection failed with the batch in flight ({source})"
                    )?;
                }
                write!(
                    f,
                    ": of its {} entries, {} replied, {} did not run and {} may have run (see \
                     Replies::unknown)",
                    replies.len(),
                    count(Outcome::Replied),
                    count(Outcome::NotRun),
                    count(Outcome::Unknown),
                )
            }
            Error::Conversion {
                path,
                expected,
                source,
            } => write!(
                f,
                "{path}: the script's reply does not convert into `{expected}`: {source}"
            ),
            Error::CrossSlot {
                script,
                keys_and_slots,
            } => {
                write!(
                    f,
                    "`{script}`: the keys are in different Redis Cluster hash slots ("
                )?;
                for (position, (key, slot)) in keys_and_slots.iter().enumerate() {
                    let separator = if position == 0 { "" } else { ", " };
                    write!(
                        f,
                        "{separator}{:?} (slot {slot})",
                        String::from_utf8_lossy(key)
                    )?;
                }
                write!(
                    f,
                    "), so a cluster would refuse the script with CROSSSLOT; nothing was sent \
                     (a value containing `{{` or `}}` moves a key template's hash tag)"
                )
            }
            Error::ClusterConnection { batch, connection } => write!(
                f,
                "a {batch} does not run on {connection}: the cluster connection resends the \
                 whole pipeline on MOVED/ASK (running invocations twice), and the synchronous one \
                 routes a transaction by a command that has no key; nothing was sent. Use \
                 redis_script::batch::ClusterBatch"
            ),
            Error::FunctionMissing {
                function,
                library,
                path,
                source,
            } => write!(
                f,
                "{path}: the server has library `{library}` but no function `{function}` in it, \
                 even after loading the library: it runs another version of `{library}` \
                 (see redis_script::libraries to find and replace stale libraries); nothing ran \
                 ({source})"
            ),
            Error::LibraryLoad {
                library,
                path,
                source,
            } => write!(
                f,
                "{path}: the server has no library `{library}` and refused to load it; nothing \
                 ran ({source})"
            ),
            Error::Redis(error) => error.fmt(f),
        }
    }
}

/// The start of a refusal's message: the script, and the caller's entry of a transaction.
fn write_refused(f: &mut fmt::Formatter<'_>, path: &str, ticket: Option<usize>) -> fmt::Result {
    write!(f, "{path}: ")?;
    if let Some(ticket) = ticket {
        write!(f, "the transaction (entry {ticket}): ")?;
    }
    Ok(())
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Script(error) => Some(&error.source),
            Error::Busy { source, .. }
            | Error::OutOfMemory { source, .. }
            | Error::ReplyUnreadable { source, .. }
            | Error::ScriptMissing { source, .. }
            | Error::TransactionDiscarded { source, .. }
            | Error::Conversion { source, .. }
            | Error::FunctionMissing { source, .. }
            | Error::LibraryLoad { source, .. }
            | Error::NotRun { source, .. }
            | Error::Interrupted { source, .. } => Some(source),
            Error::CrossSlot { .. } | Error::ClusterConnection { .. } => None,
            Error::Redis(error) => Some(error),
        }
    }
}

impl From<RedisError> for Error {
    fn from(error: RedisError) -> Self {
        Error::Redis(error)
    }
}

/// A script's (or a function's) runtime error, located in its Lua file.
///
/// Redis reports such errors against a script it calls `user_script` (`user_function` for the
/// libraries of Redis 7 functions, which this reads alike), e.g.
/// `ERR user_script:7: attempt to compare nil with number script: 4f1c..., on @user_script:7.`
/// This keeps the server's message and shows it as
/// `lua/transfer.lua:7: attempt to compare nil with number`, with the source line quoted.
/// References elsewhere in the message, `user_script:N:` and `@user_script:N` alike (the
/// origin of an error raised again after `pcall`, the position of a compile error), become
/// `lua/transfer.lua:N` too.
///
/// ```
/// # fn show(error: &redis_script::ScriptError) {
/// eprintln!("{} failed at line {:?}: {}", error.path(), error.line(), error.message());
/// # }
/// ```
#[derive(Debug)]
pub struct ScriptError {
    path: &'static str,
    line: usize,
    source_line: Option<&'static str>,
    message: String,
    source: RedisError,
}

impl ScriptError {
    /// The Lua file, as written in the `path` attribute.
    ///
    /// ```
    /// # use redis_script::{Error, RedisScript};
    /// # #[derive(RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// redis::cmd("SET").arg("visits").arg("many").exec(&mut connection)?;
    /// let Err(Error::Script(error)) = Incr { counter: "visits" }.invoke(&mut connection) else {
    ///     panic!("INCR of a text fails in the script");
    /// };
    /// assert_eq!(error.path(), "lua/doc_incr.lua");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The 1-based line in the Lua file at which the script failed.
    ///
    /// ```
    /// # use redis_script::{Error, RedisScript};
    /// # #[derive(RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// redis::cmd("SET").arg("visits").arg("many").exec(&mut connection)?;
    /// let Err(Error::Script(error)) = Incr { counter: "visits" }.invoke(&mut connection) else {
    ///     panic!("INCR of a text fails in the script");
    /// };
    /// assert_eq!(error.line(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn line(&self) -> usize {
        self.line
    }

    /// The text of that line, if the file has it.
    ///
    /// ```
    /// # use redis_script::{Error, RedisScript};
    /// # #[derive(RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// redis::cmd("SET").arg("visits").arg("many").exec(&mut connection)?;
    /// let Err(Error::Script(error)) = Incr { counter: "visits" }.invoke(&mut connection) else {
    ///     panic!("INCR of a text fails in the script");
    /// };
    /// assert_eq!(error.source_line(), Some(r#"return redis.call("INCR", KEYS[1])"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn source_line(&self) -> Option<&'static str> {
        self.source_line
    }

    /// The server's message, with the error code first (`WRONGTYPE Operation against a key
    /// ...`) unless the code is the generic `ERR`. The reference to the failing line, which
    /// [`line`](Self::line) gives, is removed; any other `user_script:N` reads `path:N`.
    ///
    /// ```
    /// # use redis_script::{Error, RedisScript};
    /// # #[derive(RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// redis::cmd("SET").arg("visits").arg("many").exec(&mut connection)?;
    /// let Err(Error::Script(error)) = Incr { counter: "visits" }.invoke(&mut connection) else {
    ///     panic!("INCR of a text fails in the script");
    /// };
    /// assert_eq!(error.message(), "value is not an integer or out of range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's reply as the `redis` crate reported it.
    ///
    /// ```
    /// # use redis_script::{Error, RedisScript};
    /// # #[derive(RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// redis::cmd("SET").arg("visits").arg("many").exec(&mut connection)?;
    /// let Err(Error::Script(error)) = Incr { counter: "visits" }.invoke(&mut connection) else {
    ///     panic!("INCR of a text fails in the script");
    /// };
    /// assert_eq!(error.redis_error().code(), Some("ERR"));
    /// assert!(error.redis_error().to_string().contains("@user_script:1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redis_error(&self) -> &RedisError {
        &self.source
    }

    /// Recognizes a server error that names a line of the script; gives the error back otherwise.
    fn from_server(
        error: RedisError,
        path: &'static str,
        source: &'static str,
    ) -> Result<Self, RedisError> {
        let Some(detail) = error.detail() else {
            return Err(error);
        };
        let Some(assembled_line) = script_line(detail) else {
            return Err(error);
        };
        // Only scripts with includes have a map; looking it up is the cold path of a failure.
        let map = match crate::registry::source_map_of(path, source) {
            [] => crate::libraries::source_map_of(path, source),
            map => map,
        };
        let (file, line) = SourceSegment::locate(map, path, assembled_line);
        let message = script_message(detail, |line| SourceSegment::locate(map, path, line));
        let message = match error.code() {
            Some("ERR") | None => message,
            Some(code) => format!("{code} {message}"),
        };
        Ok(ScriptError {
            path: file,
            line,
            // The assembled line is the file's line, as written.
            source_line: assembled_line
                .checked_sub(1)
                .and_then(|index| source.lines().nth(index)),
            message,
            source: error,
        })
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)?;
        if let Some(text) = self.source_line {
            write!(f, "\n{:>5} | {}", self.line, text.trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The chunk names Redis compiles Lua under, which its error messages cite with a line:
/// `user_script` for scripts (`EVAL`), `user_function` for Redis 7 function libraries
/// (`ERR user_function:4: bad amount script: transfer, on @user_function:4.`). A message
/// cites only one of them.
const CHUNK_NAMES: [&str; 2] = ["user_script:", "user_function:"];

/// Where the first chunk name in `text` is, and its length.
fn find_chunk_name(text: &str) -> Option<(usize, usize)> {
    CHUNK_NAMES
        .iter()
        .filter_map(|name| text.find(name).map(|at| (at, name.len())))
        .min()
}

/// The line number after the first `user_script:` (as in `user_script:7:` and `@user_script:7.`),
/// or `user_function:`.
fn script_line(detail: &str) -> Option<usize> {
    let mut rest = detail;
    while let Some((at, length)) = find_chunk_name(rest) {
        let digits = &rest[at + length..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if let Ok(line) = digits[..end].parse() {
            return Some(line);
        }
        rest = digits;
    }
    None
}

/// The message without Redis's own references to the failing line (a leading
/// `user_script:N: ` and the trailing ` script: <sha1>, on @user_script:N.`, which the file and
/// line replace), every other reference (`user_script:N`, `@user_script:N`) read as `path:N`,
/// `locate` giving the file and line of each line of the script.
fn script_message(detail: &str, locate: impl Fn(usize) -> (&'static str, usize)) -> String {
    let mut message = detail.trim();
    if let Some(rest) = CHUNK_NAMES
        .iter()
        .find_map(|name| message.strip_prefix(name))
    {
        let after_digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(text) = after_digits.strip_prefix(':') {
            message = text.trim_start();
        }
    }
    if let Some(at) = message.rfind(" script: ")
        && find_chunk_name(&message[at..])
            .is_some_and(|(chunk, _)| message[at..chunk + at].ends_with('@'))
    {
        message = message[..at].trim_end();
    }
    replace_script_references(message, locate)
}

/// `user_script:N` and `@user_script:N` (or `user_function:...`) as `path:N`, wherever they are.
fn replace_script_references(
    message: &str,
    locate: impl Fn(usize) -> (&'static str, usize),
) -> String {
    let mut replaced = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, length)) = find_chunk_name(rest) {
        let after = &rest[at + length..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            replaced.push_str(&rest[..at + length]);
            rest = after;
            continue;
        }
        let before = &rest[..at];
        replaced.push_str(before.strip_suffix('@').unwrap_or(before));
        match after[..digits].parse() {
            Ok(line) => {
                let (path, line) = locate(line);
                replaced.push_str(path);
                replaced.push(':');
                replaced.push_str(&line.to_string());
            }
            Err(_) => replaced.push_str(&rest[at..at + length + digits]),
        }
        rest = &after[digits..];
    }
    replaced.push_str(rest);
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error the server's reply `text` (RESP, with its `-` and CRLF) is.
    fn server_error(text: &[u8]) -> RedisError {
        match redis::parse_redis_value(text) {
            Ok(redis::Value::ServerError(error)) => error.into(),
            other => panic!("not an error reply: {other:?}"),
        }
    }

    const OOM: &[u8] = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";

    #[test]
    fn refusals_count_only_in_the_servers_words() {
        let busy = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
        let valkey = b"-BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
        assert_eq!(Refusal::of(&server_error(busy)), Some(Refusal::Busy));
        assert_eq!(Refusal::of(&server_error(valkey)), Some(Refusal::Busy));
        assert_eq!(Refusal::of(&server_error(OOM)), Some(Refusal::OutOfMemory));
        // Raised inside a script without a `#!` line, at its first write.
        let in_script = b"-OOM command not allowed when used memory > 'maxmemory'. script: d67a, on @user_script:2.\r\n";
        assert_eq!(
            Refusal::of(&server_error(in_script)),
            Some(Refusal::OutOfMemory)
        );
        // A script's own error replies with these codes ran.
        for own in [&b"-OOM not really\r\n"[..], b"-BUSY doing my own thing\r\n"] {
            let error = server_error(own);
            assert_eq!(Refusal::of(&error), None);
            assert_eq!(Error::Redis(error.clone()).ran(), Ran::Maybe);
            let reply = Error::from_reply(error, "lua/x.lua", "return 1");
            assert!(matches!(reply, Error::Redis(_)), "{reply:?}");
            assert_eq!(reply.ran(), Ran::Maybe);
        }
    }

    #[test]
    fn out_of_memory_is_one_variant_whichever_moment_redis_checks() {
        let before = Error::from_reply(server_error(OOM), "lua/x.lua", "return 1");
        let at_first_write = Error::from_reply(
            server_error(
                b"-OOM command not allowed when used memory > 'maxmemory'. script: d67a, on @user_script:1.\r\n",
            ),
            "lua/x.lua",
            "return redis.call('INCR', KEYS[1])",
        );
        for error in [before, at_first_write] {
            assert!(
                matches!(
                    error,
                    Error::OutOfMemory {
                        path: "lua/x.lua",
                        ticket: None,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert_eq!(error.ran(), Ran::No);
            assert_eq!(error.code(), Some("OOM"));
        }
        // A bare `redis` error in the server's words says "no" too (a plain command's reply).
        assert_eq!(Error::Redis(server_error(OOM)).ran(), Ran::No);
    }

    #[test]
    fn a_refused_exec_is_read_for_its_reason() {
        let exec = server_error(
            b"-EXECABORT Transaction discarded because of: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
        );
        assert_eq!(Refusal::of_exec(&exec), Some(Refusal::Busy));
        assert_eq!(Refusal::of_transaction(&exec), Some(Refusal::Busy));
        let other =
            server_error(b"-EXECABORT Transaction discarded because of previous errors.\r\n");
        assert_eq!(Refusal::of_transaction(&other), None);
        assert_eq!(Error::Redis(other).ran(), Ran::No);
    }

    #[test]
    fn other_refusals_count_only_in_the_servers_words() {
        let refusals: [&[u8]; 10] = [
            b"-READONLY You can't write against a read only replica.\r\n",
            b"-NOPERM User default has no permissions to run the 'evalsha' command\r\n",
            b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n",
            b"-LOADING Redis is loading the dataset in memory\r\n",
            b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
            b"-NOREPLICAS Not enough good replicas to write.\r\n",
            b"-MOVED 3999 127.0.0.1:6381\r\n",
            b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
            b"-CLUSTERDOWN Hash slot not served\r\n",
            b"-NOSCRIPT No matching script. Please use EVAL.\r\n",
        ];
        for refusal in refusals {
            let error = server_error(refusal);
            assert_eq!(Error::Redis(error.clone()).ran(), Ran::No, "{error}");
        }
        // The same codes returned by a script (`return redis.error_reply('READONLY done')`).
        let own: [&[u8]; 5] = [
            b"-READONLY done\r\n",
            b"-NOPERM not for you\r\n",
            b"-MOVED elsewhere\r\n",
            b"-LOADING later\r\n",
            b"-ERR anything\r\n",
        ];
        for reply in own {
            let error = server_error(reply);
            assert_eq!(Error::Redis(error.clone()).ran(), Ran::Maybe, "{error}");
        }
    }

    #[test]
    fn an_unreadable_reply_may_have_run() {
        let parse = match redis::parse_redis_value(b"-ERR bad \xff key\r\n") {
            Err(error) => error,
            Ok(value) => panic!("parsed: {value:?}"),
        };
        assert_eq!(parse.kind(), ErrorKind::Parse);
        let single = Error::from_reply(parse.clone(), "lua/x.lua", "return 1");
        assert!(
            matches!(
                single,
                Error::ReplyUnreadable {
                    path: Some("lua/x.lua"),
                    ..
                }
            ),
            "{single:?}"
        );
        assert_eq!(single.ran(), Ran::Maybe);
        assert!(single.to_string().contains("may have run"), "{single}");
        let batch = Error::from_wire(parse.clone());
        assert!(matches!(batch, Error::ReplyUnreadable { path: None, .. }));
        assert_eq!(batch.ran(), Ran::Maybe);
        // Built by hand, the bare error says "maybe" as well.
        assert_eq!(Error::Redis(parse).ran(), Ran::Maybe);
    }

    #[test]
    fn finds_the_line_in_both_forms() {
        assert_eq!(
            script_line("user_script:7: boom script: abc, on @user_script:7."),
            Some(7)
        );
        assert_eq!(
            script_line("Unknown command script: abc, on @user_script:12."),
            Some(12)
        );
        assert_eq!(script_line("no line here"), None);
        assert_eq!(script_line("user_script:x"), None);
    }

    #[test]
    fn strips_both_references_to_the_failing_line() {
        let message = |detail| script_message(detail, |line| ("lua/x.lua", line));
        assert_eq!(
            message("user_script:2: boom script: 64e8, on @user_script:2."),
            "boom"
        );
        assert_eq!(
            message("Unknown Redis command called from script script: 7468, on @user_script:3."),
            "Unknown Redis command called from script"
        );
        assert_eq!(message("plain"), "plain");
    }

    #[test]
    fn reads_the_chunk_of_function_libraries() {
        // Verbatim from redis-server 7.0.15 (FCALL).
        let message = |detail| script_message(detail, |line| ("lua/bank.lua", line));
        let raised = "user_function:4: bad amount script: transfer, on @user_function:4.";
        assert_eq!(script_line(raised), Some(4));
        assert_eq!(message(raised), "bad amount");
        let failed_call =
            "value is not an integer or out of range script: callerr, on @user_function:13.";
        assert_eq!(script_line(failed_call), Some(13));
        assert_eq!(
            message(failed_call),
            "value is not an integer or out of range"
        );
        let again = "user_function:2: user_function:2: inner script: pc, on @user_function:2.";
        assert_eq!(message(again), "lua/bank.lua:2: inner");
        assert_eq!(
            message("Error compiling function: user_function:2: unexpected symbol near '='"),
            "Error compiling function: lua/bank.lua:2: unexpected symbol near '='"
        );
    }

    #[test]
    fn maps_references_in_any_position() {
        let message = |detail| script_message(detail, |line| ("lua/x.lua", line));
        // Raised again after pcall: the origin stays in the message.
        assert_eq!(
            message("user_script:7: user_script:5: inner script: 17da, on @user_script:7."),
            "lua/x.lua:5: inner"
        );
        // A compile error has no trailing reference and its position mid-message.
        assert_eq!(
            message(
                "Error compiling script (new function): user_script:3: unexpected symbol near \
                 'return'"
            ),
            "Error compiling script (new function): lua/x.lua:3: unexpected symbol near 'return'"
        );
        assert_eq!(
            message(
                "failed at @user_script:12 and user_script:4: x script: ab, on @user_script:1."
            ),
            "failed at lua/x.lua:12 and lua/x.lua:4: x"
        );
        // Not a reference: no line number.
        assert_eq!(
            message("user_script:x and user_script:"),
            "user_script:x and user_script:"
        );
    }
}
