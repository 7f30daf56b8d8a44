//! The [`Function`] trait: a Redis 7 function (`FCALL`) with typed keys, arguments and reply.

use std::future::Future;
use std::time::Duration;

use redis::{Cmd, FromRedisValue};

use crate::{Error, Replicated, ShebangFlags, fcall, replication};

/// A function of a Redis 7 function library (`#!lua name=...`, `redis.register_function`),
/// with typed keys, arguments and reply: the successor of [`Script`](crate::Script) for code
/// that is loaded once (`FUNCTION LOAD`, persisted and replicated by the server) and called by
/// name (`FCALL`).
///
/// `#[derive(RedisFunction)]` implements it; every constant is computed at compile time, so
/// invoking a function hashes nothing and parses nothing. The implementation below is written
/// out by hand, exactly as the derive writes it, for the library `lua/doc_bank.lua`:
///
/// ```lua
/// #!lua name=doc_bank
/// local function doc_transfer(keys, args)
///   local amount = tonumber(args[1])
///   redis.call('DECRBY', keys[1], amount)
///   return redis.call('INCRBY', keys[2], amount)
/// end
/// redis.register_function('doc_transfer', doc_transfer)
/// ```
///
/// ```
/// use redis_script::Function;
///
/// /// Moves `amount` from one account to another; returns the new balance of `to`.
/// struct Transfer<'a> {
///     from: &'a str,
///     to: &'a str,
///     amount: i64,
/// }
///
/// impl Function for Transfer<'_> {
///     type Output = i64;
///     const NAME: &'static str = "Transfer";
///     const LIBRARY: &'static str = "doc_bank";
///     const FUNCTION: &'static str = "doc_transfer";
///     const PATH: &'static str = "lua/doc_bank.lua";
///     const SOURCE: &'static str = include_str!("../lua/doc_bank.lua");
///     const KEY_FIELDS: &'static [&'static str] = &["from", "to"];
///     const ARG_FIELDS: &'static [&'static str] = &["amount"];
///     const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None, None];
///     const STANDALONE_ONLY: bool = false;
///     const SLOT_GUARD: bool = true;
///     const FLAGS: redis_script::ShebangFlags = redis_script::ShebangFlags {
///         no_writes: false,
///         allow_oom: false,
///         allow_stale: false,
///         no_cluster: false,
///         allow_cross_slot_keys: false,
///     };
///     fn write_keys_and_args(&self, command: &mut redis::Cmd) {
///         command.arg("2").arg(self.from).arg(self.to).arg(self.amount);
///     }
/// }
///
/// # let server = throwaway_redis::RedisServer::start()?;
/// # let mut connection = server.connection()?;
/// // The library is loaded by the first call (or at start-up: `redis_script::libraries`).
/// let transfer = Transfer { from: "{bank}:alice", to: "{bank}:bob", amount: 5 };
/// assert_eq!(transfer.invoke(&mut connection)?, 5);
/// assert_eq!(transfer.invoke(&mut connection)?, 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Function {
    /// What the function's reply is converted into.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// fn output_of<F: Function>(_: &F) -> &'static str {
    ///     std::any::type_name::<F::Output>()
    /// }
    /// assert_eq!(output_of(&Transfer { from: "a", to: "b", amount: 1 }), "i64");
    /// # Ok(()) }
    /// ```
    type Output: FromRedisValue;

    /// The struct's name.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::NAME, "Transfer");
    /// # Ok(()) }
    /// ```
    const NAME: &'static str;
    /// The library's name, from its `#!lua name=...` line.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::LIBRARY, "doc_bank");
    /// # Ok(()) }
    /// ```
    const LIBRARY: &'static str;
    /// The function's name, as the library registers it (`redis.register_function`) and
    /// `FCALL` calls it. Function names are global to the server, not per library.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::FUNCTION, "doc_transfer");
    /// # Ok(()) }
    /// ```
    const FUNCTION: &'static str;
    /// The library file, as written in the derive's attribute (relative to the crate root).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::PATH, "lua/doc_bank.lua");
    /// # Ok(()) }
    /// ```
    const PATH: &'static str;
    /// The library's code, exactly as sent with `FUNCTION LOAD` (and compared with what the
    /// server has loaded, to find stale libraries).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert!(Transfer::SOURCE.starts_with("#!lua name=doc_bank\n"));
    /// # Ok(()) }
    /// ```
    const SOURCE: &'static str;
    /// The `#[key]` fields in order: `keys[1]`, `keys[2]`, ... of the callback.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::KEY_FIELDS, &["from", "to"]);
    /// # Ok(()) }
    /// ```
    const KEY_FIELDS: &'static [&'static str];
    /// The `#[arg]` fields in order: `args[1]`, `args[2]`, ... of the callback.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::ARG_FIELDS, &["amount"]);
    /// # Ok(()) }
    /// ```
    const ARG_FIELDS: &'static [&'static str];
    /// Each `#[key]` field's template as written (`None` for a plain `#[key]`), as
    /// [`Script::KEY_TEMPLATES`](crate::Script::KEY_TEMPLATES).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert_eq!(Transfer::KEY_TEMPLATES, &[None, None]);
    /// # Ok(()) }
    /// ```
    const KEY_TEMPLATES: &'static [Option<&'static str>];
    /// The function is declared never to run on a Redis Cluster, as
    /// [`Script::STANDALONE_ONLY`](crate::Script::STANDALONE_ONLY).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert!(!Transfer::STANDALONE_ONLY);
    /// # Ok(()) }
    /// ```
    const STANDALONE_ONLY: bool;
    /// Whether an invocation checks its keys' hash slots before sending, as
    /// [`Script::SLOT_GUARD`](crate::Script::SLOT_GUARD): a call whose keys are in different
    /// slots fails with [`Error::CrossSlot`] and sends nothing.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert!(Transfer::SLOT_GUARD);
    /// # Ok(()) }
    /// ```
    const SLOT_GUARD: bool = !Self::STANDALONE_ONLY && !Self::FLAGS.no_cluster;
    /// The 0-based `args` positions whose templates carry a hash tag, checked by the slot
    /// guard with the keys, as [`Script::SLOT_ARGS`](crate::Script::SLOT_ARGS).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert!(Transfer::SLOT_ARGS.is_empty());
    /// # Ok(()) }
    /// ```
    const SLOT_ARGS: &'static [usize] = &[];

    /// Whether the script (or library) may reply an error worded by itself
    /// (`redis.error_reply`, `{err = ...}`, `redis.pcall`, ...), which could read word for
    /// word as a server's refusal. Computed by the derive from the source; a cluster batch
    /// sends the invocations of such a script in one `MULTI`/`EXEC` per slot rather than one
    /// by one, where the two could not be told apart. `true` unless the derive proves
    /// otherwise.
    #[doc(hidden)]
    const MAY_REPLY_OWN_ERROR: bool = true;
    /// The flags the library registers the function with (`redis.register_function{...,
    /// flags = {'no-writes'}}`); all false without any. A `no-writes` function is called with
    /// `FCALL_RO`, which replicas serve.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// assert!(!Transfer::FLAGS.no_writes);
    /// # Ok(()) }
    /// ```
    const FLAGS: ShebangFlags;

    /// Appends `numkeys`, the keys and the args to an `FCALL` command, exactly as
    /// [`Script`](crate::Script)'s derive does for `EVALSHA`. Implemented by the derive.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// let mut command = redis::cmd("FCALL");
    /// command.arg("doc_transfer");
    /// Transfer { from: "a", to: "b", amount: 3 }.write_keys_and_args(&mut command);
    /// assert_eq!(command.args_iter().count(), 6); // FCALL doc_transfer 2 a b 3
    /// # Ok(()) }
    /// ```
    fn write_keys_and_args(&self, command: &mut Cmd);

    /// The command for this invocation: `FCALL function numkeys keys... args...`, or
    /// `FCALL_RO` for a `no-writes` function, so that replicas (and clients reading from
    /// them) can serve it. It carries no fallback: sent by hand, it fails with
    /// `ERR Function not found` until the library is loaded.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// let command = Transfer { from: "a", to: "b", amount: 3 }.fcall_command();
    /// let args: Vec<_> = command.args_iter().collect();
    /// assert_eq!(args[0], redis::Arg::Simple(&b"FCALL"[..]));
    /// assert_eq!(args[1], redis::Arg::Simple(&b"doc_transfer"[..]));
    /// # Ok(()) }
    /// ```
    fn fcall_command(&self) -> Cmd {
        // Sized up front, as `Script::evalsha_command` is: growing the buffers costs more than
        // the rest of building the command.
        let fields = Self::KEY_FIELDS.len() + Self::ARG_FIELDS.len();
        let mut command = Cmd::with_capacity(3 + fields, 48 + 32 * fields);
        command.arg(if Self::FLAGS.no_writes {
            "FCALL_RO"
        } else {
            "FCALL"
        });
        command.arg(Self::FUNCTION);
        self.write_keys_and_args(&mut command);
        command
    }

    /// Calls the function on a synchronous connection and converts its reply.
    ///
    /// Sends `FCALL` (or `FCALL_RO`). If the server answers `ERR Function not found`, nothing
    /// ran: the library is loaded (`FUNCTION LOAD`, never `REPLACE`, so that a newer library
    /// loaded by another deploy is not downgraded) and the function called once more. On a
    /// standalone server the load and the call are one transaction (`MULTI`, `FUNCTION LOAD`,
    /// `FCALL`, `EXEC`), so that a `FUNCTION FLUSH` from elsewhere cannot come between them; a
    /// load refused because the library exists (another client loaded it first) is ignored.
    /// On the `redis` crate's cluster connections the library is loaded on every primary
    /// first, then the call is sent again. Either way the function runs at most once.
    ///
    /// If the call still finds no such function, the server has a library of that name
    /// without it (an older deploy, see [`libraries`](crate::libraries)):
    /// [`Error::FunctionMissing`]. A library the server refuses to load (another library
    /// registers one of its function names, out of memory, a replica) is
    /// [`Error::LibraryLoad`].
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// let transfer = Transfer { from: "{bank}:alice", to: "{bank}:bob", amount: 2 };
    /// assert_eq!(Function::invoke(&transfer, &mut connection)?, 2);
    /// // Keys in different cluster slots: refused before anything is sent.
    /// let astray = Transfer { from: "alice", to: "bob", amount: 2 };
    /// assert!(matches!(
    ///     Function::invoke(&astray, &mut connection),
    ///     Err(redis_script::Error::CrossSlot { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }
    /// ```
    fn invoke<C>(&self, connection: &mut C) -> Result<Self::Output, Error>
    where
        C: redis::ConnectionLike + ?Sized,
    {
        let command = self.fcall_command();
        fcall::invoke(&command, fcall::Details::of::<Self>(), connection)
    }

    /// Calls the function on an asynchronous connection (`MultiplexedConnection`,
    /// `ConnectionManager`, the cluster connection, ...) with the same fallback as
    /// [`invoke`](Self::invoke).
    ///
    /// The command is built before the returned future first runs, so the future borrows
    /// only the connection and the struct need not be `Sync`; the future is `Send`.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::Function;
    ///
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # runtime.block_on(async {
    /// let mut connection = server.client().get_multiplexed_async_connection().await?;
    /// let transfer = Transfer { from: "{bank}:alice", to: "{bank}:bob", amount: 4 };
    /// assert_eq!(Function::invoke_async(&transfer, &mut connection).await?, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }
    /// ```
    fn invoke_async<'c, C>(
        &self,
        connection: &'c mut C,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send + use<'c, Self, C>
    where
        C: redis::aio::ConnectionLike + Send,
    {
        crate::__private::invoke_function_async(self, connection)
    }

    /// Calls the function and `WAIT`s for `replicas` replicas to acknowledge its writes, in one
    /// round trip (`FCALL` then `WAIT numreplicas timeout`), as
    /// [`Script::invoke_and_wait`](crate::Script::invoke_and_wait) does for scripts:
    /// [`Replicated::replicas`] says how many did before `timeout` (zero: no timeout). A
    /// `no-writes` function goes as `FCALL`, not `FCALL_RO`, so that the pipeline reaches a
    /// primary, the only node that answers `WAIT`. When the library is missing, nothing ran:
    /// it is loaded and the function called as [`invoke`](Self::invoke) does, then `WAIT` is
    /// sent.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use redis_script::Function;
    ///
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let mut connection = server.connection()?;
    /// let transfer = Transfer { from: "{bank}:alice", to: "{bank}:bob", amount: 2 };
    /// let done = transfer.invoke_and_wait(&mut connection, 0, Duration::from_millis(10))?;
    /// assert_eq!((done.value, done.replicas), (2, 0)); // a server without replicas
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }
    /// ```
    fn invoke_and_wait<C>(
        &self,
        connection: &mut C,
        replicas: usize,
        timeout: Duration,
    ) -> Result<Replicated<Self::Output>, Error>
    where
        C: redis::ConnectionLike + ?Sized,
    {
        let (fcall, details) = replication::waiting_function(self);
        let wait = replication::wait_command(replicas, timeout);
        replication::invoke_function_and_wait(&fcall, details, &wait, connection)
    }

    /// The asynchronous [`invoke_and_wait`](Self::invoke_and_wait). The command is built
    /// before the future first runs, so the future borrows only the connection.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use redis_script::Function;
    ///
    /// # let server = throwaway_redis::RedisServer::start()?;
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # runtime.block_on(async {
    /// let mut connection = server.client().get_multiplexed_async_connection().await?;
    /// let transfer = Transfer { from: "{bank}:alice", to: "{bank}:bob", amount: 4 };
    /// let done = transfer
    ///     .invoke_and_wait_async(&mut connection, 0, Duration::from_millis(10))
    ///     .await?;
    /// assert_eq!(done.value, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }
    /// ```
    fn invoke_and_wait_async<'c, C>(
        &self,
        connection: &'c mut C,
        replicas: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Replicated<Self::Output>, Error>> + Send + use<'c, Self, C>
    where
        C: redis::aio::ConnectionLike + Send,
    {
        let (fcall, details) = replication::waiting_function(self);
        let wait = replication::wait_command(replicas, timeout);
        replication::invoke_function_and_wait_async(fcall, details, wait, connection)
    }
}
