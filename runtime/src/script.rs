use std::future::Future;
use std::time::Duration;

use redis::{Cmd, FromRedisValue};

use crate::{Error, Replicated, ShebangFlags, invoke, replication};

/// A Redis Lua script with typed keys, arguments and reply, implemented by
/// `#[derive(RedisScript)]`.
///
/// Everything about the script that can be known at compile time is an associated constant,
/// computed by the derive: invoking a script hashes nothing and parses nothing.
///
/// Generic code takes `impl Script`:
///
/// ```
/// use redis_script::Script;
///
/// fn describe(script: &impl Script) -> String {
///     fn of<S: Script>(_: &S) -> String {
///         format!("{} ({}) sha1 {}", S::NAME, S::PATH, S::SHA1)
///     }
///     of(script)
/// }
///
/// #[derive(redis_script::RedisScript)]
/// #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// struct Incr<'a> {
///     #[key]
///     counter: &'a str,
/// }
///
/// assert!(describe(&Incr { counter: "c" }).starts_with("Incr (lua/doc_incr.lua) sha1 "));
/// assert_eq!(Incr::KEY_FIELDS, &["counter"]);
/// ```
pub trait Script {
    /// What the script's reply is converted into (`returns = T`; `redis::Value` by default).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// fn output_of<S: Script>(_: &S) -> &'static str {
    ///     std::any::type_name::<S::Output>()
    /// }
    /// assert_eq!(output_of(&Incr { counter: "visits" }), "i64");
    /// ```
    type Output: FromRedisValue;

    /// The struct's name.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert_eq!(Incr::NAME, "Incr");
    /// ```
    const NAME: &'static str;
    /// The Lua file, as written in `#[redis_script(path = "...")]` (relative to the crate root).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert_eq!(Incr::PATH, "lua/doc_incr.lua");
    /// ```
    const PATH: &'static str;
    /// The script's source, exactly as sent with `EVAL` and hashed for `EVALSHA`.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert_eq!(Incr::SOURCE, include_str!("../lua/doc_incr.lua"));
    /// assert_eq!(Incr::SOURCE, "return redis.call(\"INCR\", KEYS[1])\n");
    /// ```
    const SOURCE: &'static str;
    /// The lowercase hex SHA1 of [`SOURCE`](Self::SOURCE): the name Redis knows the script by.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// // What `SCRIPT LOAD` answers for the source and `EVALSHA` is sent with.
    /// assert_eq!(Incr::SHA1, "0146cf5abf2391640ada2991ba6f93ad1698fe70");
    /// ```
    const SHA1: &'static str;
    /// The `#[key]` fields in order: `KEYS[1]`, `KEYS[2]`, ... (a variadic one fills the rest).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert_eq!(Incr::KEY_FIELDS, &["counter"]);
    /// ```
    const KEY_FIELDS: &'static [&'static str];
    /// The `#[arg]` fields in order: `ARGV[1]`, `ARGV[2]`, ... (a variadic one fills the rest).
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert!(Incr::ARG_FIELDS.is_empty());
    /// ```
    const ARG_FIELDS: &'static [&'static str];
    /// The flags of the script's `#!lua flags=...` line; all false without one.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// // `lua/doc_incr.lua` has no `#!lua` line.
    /// assert_eq!(Incr::FLAGS, redis_script::ShebangFlags::default());
    /// assert!(!Incr::FLAGS.no_writes);
    /// ```
    const FLAGS: ShebangFlags;
    /// Each `#[key]` field's template as written, in [`KEY_FIELDS`](Self::KEY_FIELDS) order:
    /// `Some("{{bank:{bank}}}:acct:{}")` for `#[key("{{bank:{bank}}}:acct:{}")]`, `None` for a
    /// plain `#[key]`.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert_eq!(Incr::KEY_TEMPLATES, &[None]);
    /// ```
    const KEY_TEMPLATES: &'static [Option<&'static str>];
    /// `#[redis_script(standalone_only)]`: the script is declared never to run on a Redis
    /// Cluster (the struct-level twin of `#!lua flags=no-cluster`, for scripts that must also
    /// run on Redis 6, where a `#!` line is a syntax error), so its keys need not share a hash
    /// slot and the runtime slot guard is off.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// assert!(!Incr::STANDALONE_ONLY);
    /// ```
    const STANDALONE_ONLY: bool;
    /// Whether an invocation checks its keys' hash slots before sending (see `slot_guard`):
    /// the derive turns it off when no value can break its slot proof (every key template
    /// starts with the same literal hash tag, or the script opts out of clusters), so such
    /// scripts pay nothing at run time for what was proven at compile time.
    #[doc(hidden)]
    const SLOT_GUARD: bool = !Self::STANDALONE_ONLY && !Self::FLAGS.no_cluster;

    /// Whether the script (or library) may reply an error worded by itself
    /// (`redis.error_reply`, `{err = ...}`, `redis.pcall`, ...), which could read word for
    /// word as a server's refusal. Computed by the derive from the source; a cluster batch
    /// sends the invocations of such a script in one `MULTI`/`EXEC` per slot rather than one
    /// by one, where the two could not be told apart. `true` unless the derive proves
    /// otherwise.
    #[doc(hidden)]
    const MAY_REPLY_OWN_ERROR: bool = true;

    /// The 0-based `ARGV` positions of `#[arg("...")]` fields whose template carries a hash
    /// tag (a key prefix the script builds keys from): the slot guard checks that each has a
    /// tag, in the keys' slot.
    #[doc(hidden)]
    const SLOT_ARGS: &'static [usize] = &[];

    /// Appends `numkeys`, the keys and the args to an `EVALSHA` command. Implemented by the
    /// derive.
    #[doc(hidden)]
    fn write_keys_and_args(&self, command: &mut Cmd);

    /// The `EVALSHA` command for this invocation (`EVALSHA_RO` for a `no-writes` script), for
    /// callers that send it themselves. It carries no NOSCRIPT fallback.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// let command = Incr { counter: "c" }.evalsha_command();
    /// assert_eq!(command.args_iter().count(), 4); // EVALSHA sha1 1 c
    /// ```
    fn evalsha_command(&self) -> Cmd {
        evalsha(self, Self::FLAGS.no_writes)
    }

    /// Runs the script on a synchronous connection and converts its reply.
    ///
    /// Sends `EVALSHA` with the compile-time SHA1. If the server does not have the script
    /// (`NOSCRIPT`: a flushed cache, a restarted or newly promoted node), sends `SCRIPT LOAD`
    /// with the source and the `EVALSHA` again in one round trip; invocations of the process that
    /// hit `NOSCRIPT` at the same time share that one load. `NOSCRIPT` means the script did not
    /// run, so the fallback never runs it twice. (On the `redis` crate's cluster connections,
    /// which route by the first command, the reload is `EVAL`; after three reloads that a new
    /// flush undid, too.)
    ///
    /// Takes `&self`: the fields are only serialized into the command, so one value can be
    /// invoked again (a retry, a loop) without cloning it.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut connection = redis::Client::open("redis://127.0.0.1/")?.get_connection()?;
    /// let count: i64 = Script::invoke(&Incr { counter: "visits" }, &mut connection)?;
    /// # Ok(()) }
    /// ```
    fn invoke<C>(&self, connection: &mut C) -> Result<Self::Output, Error>
    where
        C: redis::ConnectionLike + ?Sized,
    {
        let command = self.evalsha_command();
        invoke::invoke(&command, invoke::Details::of::<Self>(), connection)
    }

    /// Runs the script on an asynchronous connection (`MultiplexedConnection`,
    /// `ConnectionManager`, the cluster connection, ...) and converts its reply, with the same
    /// `NOSCRIPT` fallback as [`invoke`](Self::invoke).
    ///
    /// The command is built before the returned future first runs, so the future borrows only
    /// the connection and the struct need not be `Sync`.
    ///
    /// The connection must be `Send`, and the returned future is `Send`, so that an invocation
    /// can be spawned on a multi-threaded runtime (`tokio::spawn`) or held across `.await` in a
    /// task that is; every connection of the `redis` crate is `Send`.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::Script;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1/")?;
    /// let mut connection = client.get_multiplexed_async_connection().await?;
    /// let count: i64 = Script::invoke_async(&Incr { counter: "visits" }, &mut connection).await?;
    /// # Ok(()) }
    /// ```
    fn invoke_async<'c, C>(
        &self,
        connection: &'c mut C,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send + use<'c, Self, C>
    where
        C: redis::aio::ConnectionLike + Send,
    {
        crate::__private::invoke_async(self, connection)
    }

    /// Runs the script, then `WAIT replicas timeout`, in one round trip (a pipeline), and
    /// returns the script's reply with the number of replicas that acknowledged its writes, so
    /// that callers can insist on durability before acknowledging to their own users.
    ///
    /// `timeout` is rounded down to milliseconds; zero means no timeout (`WAIT` blocks until
    /// enough replicas acknowledge). On `NOSCRIPT` the fallback is the pipeline `EVAL` +
    /// `WAIT`. On a cluster connection the pipeline goes where the script's first key routes
    /// it, the shard's primary; a script without keys should use
    /// `redis_script::cluster::invoke_and_wait_async` (feature `cluster`) there, as
    /// the `redis` crate may send a keyless pipeline to a replica, which refuses `WAIT`.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use std::time::Duration;
    /// use redis_script::Script;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut connection = redis::Client::open("redis://127.0.0.1/")?.get_connection()?;
    /// let done = Incr { counter: "orders" }
    ///     .invoke_and_wait(&mut connection, 1, Duration::from_millis(100))?;
    /// if done.replicas < 1 {
    ///     eprintln!("order {} is only on the primary so far", done.value);
    /// }
    /// # Ok(()) }
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
        let (command, details) = replication::waiting(self);
        let wait = replication::wait_command(replicas, timeout);
        replication::invoke_and_wait(&command, details, &wait, connection)
    }

    /// The asynchronous [`invoke_and_wait`](Self::invoke_and_wait). The command is built
    /// before the future first runs, so the future borrows only the connection.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use std::time::Duration;
    /// use redis_script::Script;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1/")?;
    /// let mut connection = client.get_multiplexed_async_connection().await?;
    /// let done = Incr { counter: "orders" }
    ///     .invoke_and_wait_async(&mut connection, 1, Duration::from_millis(100))
    ///     .await?;
    /// # Ok(()) }
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
        let (command, details) = replication::waiting(self);
        let wait = replication::wait_command(replicas, timeout);
        replication::invoke_and_wait_async(command, details, wait, connection)
    }
}

/// `EVALSHA sha1 numkeys keys... args...` (`EVALSHA_RO` when `read_only`).
pub(crate) fn evalsha<S: Script + ?Sized>(script: &S, read_only: bool) -> Cmd {
    // Sized up front (as `redis::Script` does): growing the buffers costs more than the rest of
    // building the command. Variadic fields may still grow them.
    let fields = S::KEY_FIELDS.len() + S::ARG_FIELDS.len();
    let mut command = Cmd::with_capacity(3 + fields, 64 + 32 * fields);
    command.arg(if read_only { "EVALSHA_RO" } else { "EVALSHA" });
    command.arg(S::SHA1);
    script.write_keys_and_args(&mut command);
    command
}
