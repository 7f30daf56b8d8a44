//! Redis Cluster: loading scripts on every node, and invoking with explicit routing.
//!
//! [`Script::invoke`] and [`Script::invoke_async`] already work on
//! [`redis::cluster::ClusterConnection`] and [`redis::cluster_async::ClusterConnection`]: the
//! `redis` crate routes `EVALSHA` by its first key, which is the node that owns every key of
//! the script (the derive proves they share a slot, and the runtime guard checks each call).
//! `NOSCRIPT` from that node is answered with `EVAL` to the same node.
//!
//! What the generic methods cannot do is choose the node of a script **without keys**: the
//! `redis` crate (1.8) sends such an `EVALSHA` to a random node, which may be a replica, where
//! a script that writes fails. The functions of this module route explicitly: by the first key
//! (to the primary, or to any node of the shard for a `no-writes` script when the client reads
//! from replicas), and a zero-key script to a random primary (any node for a `no-writes` one).
//!
//! [`load`] / [`load_all`] send `SCRIPT LOAD` to every node, primaries and replicas, so that a
//! replica promoted by a failover already has the scripts. The `NOSCRIPT` fallback covers any
//! node the load missed, so loading is an optimization (it saves one round trip per node and
//! script after a failover), never a requirement.
//!
//! # Failover
//!
//! What the `redis` crate (1.8) does when a primary is killed (`kill -9`) and a replica takes
//! over, and what this module adds; pinned by the failover tests of this repository.
//!
//! - Its **asynchronous** cluster connection, built with the default settings, recovers by
//!   itself: calls made during the failover wait (it retries, with back-off, for seconds) and
//!   then succeed on the promoted replica. But it sends a command again when the connection
//!   drops or it is redirected, whether or not the command had run, so an invocation made
//!   around the failover **may run twice**. For at most once, build the client with
//!   `ClusterClientBuilder::retries(0)`: calls then fail during the failover (an I/O error,
//!   `MOVED`), the crate reloads its slot map on its own, and calls succeed again after it.
//! - Its **synchronous** connection does not recover: it keeps connecting to the dead
//!   primary's address and answers `Connection refused` to every call, even long after a
//!   replica has taken over, because only a `MOVED` reply makes it reload its slot map. It
//!   does retry internally (it reconnects after a dropped connection and retries other I/O
//!   errors), but always at the dead address, so it runs nothing twice.
//!
//! Both also treat a reply they cannot parse (an error reply that is not valid UTF-8: see
//! [`Error::ReplyUnreadable`]) as a reason to reconnect **and
//! send the command again** (redis 1.8, `RetryMethod::Reconnect`), so a script whose error
//! reply quotes binary data runs once per attempt; `ClusterClientBuilder::retries(0)` keeps it
//! to one. This library cannot see those attempts: it gets the last parse error, reported as
//! [`Error::ReplyUnreadable`] (may have run).
//!
//! [`invoke`] and [`invoke_and_wait`] work around the synchronous limitation: after an I/O
//! error they make the connection reload its slot map (they send `EXISTS` to a healthy primary
//! that does not own the key's slot, which must answer `MOVED`), and return the error. They
//! **never send the script again**: the error says nothing about whether it ran (it may have
//! run, and replicated, before the primary died, and a resend would run it twice on the
//! promoted replica), so the caller decides, for instance by making the script idempotent.
//! The next call reaches the new primary once the cluster has promoted one. The generic
//! [`Script::invoke`] on a synchronous cluster connection recovers only once something else
//! reloads the slot map (such as a call to [`invoke`]); or open a new connection.
//!
//! # Bounded waits
//!
//! The functions of this module wait as long as the connection they are given. In redis
//! 1.8.1 a `ClusterClient` built with the defaults waits at most 1 s to connect to a node (the
//! handshake included) but has **no response timeout**: a call to a primary that is frozen (a
//! stopped process, a hung VM) or cut off without the connection breaking waits until the
//! node answers, however long. `ClusterClientBuilder::response_timeout` sets one: the
//! asynchronous connection applies it to each attempt and, unless
//! `overall_response_timeout` says otherwise, to the whole call with its retries; the
//! synchronous one uses it as the sockets' read timeout. A timed-out call is an I/O error that
//! the asynchronous connection retries at once (16 retries by default), so, as after a dropped
//! connection, a script may run twice unless the client is built with `retries(0)`. Redis's
//! default `cluster-node-timeout`, 15 s, is a reasonable bound: a primary silent that long is
//! being failed over. [`ClusterBatch`](crate::batch::ClusterBatch) uses its own connections,
//! bounded by default (see [`crate::batch::DEFAULT_RESPONSE_TIMEOUT`]).

use std::future::Future;
use std::time::Duration;

use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Arg, Cmd, RedisError, Value};
use redis_script_analysis::hash_slot;

use crate::invoke::{Details, is_noscript, server_error_as_err};
use crate::replication::{self, Replicated, Replies};
use crate::{Error, Script};

/// The synchronous cluster connection of the `redis` crate, as this module's functions take it.
///
/// ```no_run
/// # fn main() -> Result<(), redis::RedisError> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let connection: redis_script::cluster::ClusterConnection = client.get_connection()?;
/// # Ok(()) }
/// ```
pub type ClusterConnection = redis::cluster::ClusterConnection;
/// The asynchronous cluster connection of the `redis` crate, as this module's functions take
/// it.
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let connection: redis_script::cluster::AsyncClusterConnection =
///     client.get_async_connection().await?;
/// # Ok(()) }
/// ```
pub type AsyncClusterConnection = redis::cluster_async::ClusterConnection;

/// A script to [`load_all`]: its name, Lua file, source and SHA1, taken from a [`Script`]
/// implementation, so that scripts of different types fit in one slice.
///
/// ```
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::cluster::ScriptSource;
///
/// const SCRIPTS: &[ScriptSource] = &[ScriptSource::of::<Incr<'static>>()];
/// assert_eq!(SCRIPTS[0].path, "lua/doc_incr.lua");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptSource {
    /// The struct's name.
    pub name: &'static str,
    /// The Lua file, as written in the `path` attribute.
    pub path: &'static str,
    /// The script's source.
    pub source: &'static str,
    /// Its SHA1, as `EVALSHA` names it.
    pub sha1: &'static str,
}

impl ScriptSource {
    /// The source of script `S`.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// use redis_script::{Script, cluster::ScriptSource};
    ///
    /// assert_eq!(ScriptSource::of::<Incr>().sha1, Incr::SHA1);
    /// ```
    pub const fn of<S: Script + ?Sized>() -> Self {
        ScriptSource {
            name: S::NAME,
            path: S::PATH,
            source: S::SOURCE,
            sha1: S::SHA1,
        }
    }
}

/// How `SCRIPT LOAD` went on one node.
///
/// ```
/// use redis_script::cluster::NodeLoad;
///
/// fn report(nodes: &[NodeLoad]) {
///     for node in nodes {
///         match &node.result {
///             Ok(sha1s) => println!("{}: loaded {}", node.address, sha1s.join(", ")),
///             Err(error) => eprintln!("{}: not loaded ({error})", node.address),
///         }
///     }
/// }
/// # report(&[]);
/// ```
#[derive(Clone, Debug)]
pub struct NodeLoad {
    /// `host:port`, as the cluster announces the node (`CLUSTER NODES`).
    pub address: String,
    /// Whether the node was a primary (else a replica) when the load started.
    pub primary: bool,
    /// The SHA1 the node answered for each script, in order (each equal to the script's
    /// [`SHA1`](Script::SHA1)); or the first failure, after which the node was sent nothing
    /// more.
    pub result: Result<Vec<String>, RedisError>,
}

impl NodeLoad {
    /// Whether every script was loaded on this node.
    ///
    /// ```
    /// let node = redis_script::cluster::NodeLoad {
    ///     address: "127.0.0.1:7000".into(),
    ///     primary: true,
    ///     result: Ok(vec![]),
    /// };
    /// assert!(node.is_loaded());
    /// ```
    pub fn is_loaded(&self) -> bool {
        self.result.is_ok()
    }
}

/// Loads script `S` on every node of the cluster, primaries and replicas; see [`load_all`].
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// let nodes = redis_script::cluster::load::<Incr>(&mut connection)?;
/// assert!(nodes.iter().all(|node| node.is_loaded()));
/// # Ok(()) }
/// ```
pub fn load<S: Script + ?Sized>(
    connection: &mut ClusterConnection,
) -> Result<Vec<NodeLoad>, Error> {
    load_all(connection, &[ScriptSource::of::<S>()])
}

/// Sends `SCRIPT LOAD` for each script to every node that `CLUSTER NODES` lists, primaries and
/// replicas, one node at a time, and reports each node.
///
/// A node that is down or refuses is reported with its error and does not stop the others;
/// the `NOSCRIPT` fallback of every invocation covers it later. The call fails as a whole only
/// when no node answers `CLUSTER NODES`.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::cluster::{self, ScriptSource};
///
/// const SCRIPTS: &[ScriptSource] = &[ScriptSource::of::<Incr<'static>>()];
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// for node in cluster::load_all(&mut connection, SCRIPTS)? {
///     if let Err(error) = &node.result {
///         eprintln!("{} will load the scripts on first use: {error}", node.address);
///     }
/// }
/// # Ok(()) }
/// ```
pub fn load_all(
    connection: &mut ClusterConnection,
    scripts: &[ScriptSource],
) -> Result<Vec<NodeLoad>, Error> {
    let nodes = nodes_sync(connection)?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let result = scripts
                .iter()
                .map(|script| {
                    let reply = connection.route_command(&script_load(script), node.routing());
                    checked_sha1(reply, script)
                })
                .collect();
            node.report(result)
        })
        .collect())
}

/// The asynchronous [`load`].
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let nodes = redis_script::cluster::load_async::<Incr>(&mut connection).await?;
/// # Ok(()) }
/// ```
pub async fn load_async<S: Script + ?Sized>(
    connection: &mut AsyncClusterConnection,
) -> Result<Vec<NodeLoad>, Error> {
    load_all_async(connection, &[ScriptSource::of::<S>()]).await
}

/// The asynchronous [`load_all`]. The `redis` crate's asynchronous cluster connection only
/// sends to nodes it is connected to, so a node it has not discovered yet (a replica that has
/// just joined) is reported as not loaded.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::cluster::{self, ScriptSource};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let nodes = cluster::load_all_async(&mut connection, &[ScriptSource::of::<Incr>()]).await?;
/// # Ok(()) }
/// ```
pub async fn load_all_async(
    connection: &mut AsyncClusterConnection,
    scripts: &[ScriptSource],
) -> Result<Vec<NodeLoad>, Error> {
    let nodes = nodes_async(connection).await?;
    let mut reports = Vec::with_capacity(nodes.len());
    for node in nodes {
        let mut result = Ok(Vec::with_capacity(scripts.len()));
        for script in scripts {
            let reply = connection
                .route_command(script_load(script), node.routing())
                .await;
            match (checked_sha1(reply, script), &mut result) {
                (Ok(sha1), Ok(sha1s)) => sha1s.push(sha1),
                (Err(error), _) => {
                    result = Err(error);
                    break;
                }
                (Ok(_), Err(_)) => break,
            }
        }
        reports.push(node.report(result));
    }
    Ok(reports)
}

/// Runs a script on a synchronous cluster connection, routed explicitly: by its first key, or,
/// for a script without keys, to a random primary (any node for a `no-writes` script). Same
/// guard and `NOSCRIPT` fallback as [`Script::invoke`].
///
/// After an I/O error it reloads the connection's slot map, so that the next call reaches the
/// promoted replica of a dead primary, and returns the error without sending the script again:
/// the script may or may not have run (see [Failover](self#failover)).
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// let count = redis_script::cluster::invoke(&Incr { counter: "visits" }, &mut connection)?;
/// # Ok(()) }
/// ```
pub fn invoke<S: Script + ?Sized>(
    script: &S,
    connection: &mut ClusterConnection,
) -> Result<S::Output, Error> {
    let evalsha = script.evalsha_command();
    let details = Details::of::<S>();
    let span = details.span(&evalsha);
    let _entered = span.entered_guard();
    details.check_slots(&evalsha)?;
    let routing = RoutingInfo::SingleNode(routing(&evalsha, details.read_only));
    let mut send = |command: &Cmd| {
        recovering(connection, &evalsha, |connection| {
            server_error_as_err(connection.route_command(command, routing.clone()))
        })
    };
    let mut reply = send(&evalsha);
    if is_noscript(&reply) {
        span.record_fallback();
        reply = send(&details.eval_command(&evalsha));
    }
    details.convert(reply)
}

/// [`Script::invoke_and_wait`] on a synchronous cluster connection, with the same handling of
/// a dead primary as [`invoke`] (the slot map is reloaded, the I/O error returned, nothing
/// sent twice). The pipeline goes where the `redis` crate routes its first command: the
/// primary of the script's first key (a `no-writes` script is sent as `EVALSHA` here, so that
/// a client reading from replicas does not route it to one, which would refuse `WAIT`). A
/// script without keys has no such route on the synchronous connection (it may reach a
/// replica): use [`invoke_and_wait_async`] for those.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use std::time::Duration;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// let script = Incr { counter: "{user:1}:visits" };
/// let done = redis_script::cluster::invoke_and_wait(
///     &script, &mut connection, 1, Duration::from_millis(500),
/// )?;
/// assert!(done.replicas <= 1);
/// # Ok(()) }
/// ```
pub fn invoke_and_wait<S: Script + ?Sized>(
    script: &S,
    connection: &mut ClusterConnection,
    replicas: usize,
    timeout: Duration,
) -> Result<Replicated<S::Output>, Error> {
    let (evalsha, details) = replication::waiting(script);
    let span = details.span(&evalsha);
    let _entered = span.entered_guard();
    details.check_slots(&evalsha)?;
    let wait = replication::wait_command(replicas, timeout);
    let mut send = |command: &Cmd| {
        let mut packed = command.get_packed_command();
        wait.write_packed_command(&mut packed);
        let values = recovering(connection, &evalsha, |connection| {
            redis::ConnectionLike::req_packed_commands(connection, &packed, 0, 2).map(Value::Array)
        });
        Replies::from_values(values.map(|value| match value {
            Value::Array(values) => values,
            other => vec![other],
        }))
    };
    let mut replies = send(&evalsha)?;
    if replies.is_noscript() {
        span.record_fallback();
        replies = send(&details.eval_command(&evalsha))?;
    }
    replies.finish(&details)
}

/// Sends with `send`, and after an I/O error makes the connection reload its slot map, which
/// the synchronous cluster connection of the `redis` crate (1.8) does not do by itself: after a
/// `kill -9` of a primary it keeps connecting to the dead node's address, answering `Connection
/// refused` on every call, even long after a replica has taken over, because only a `MOVED`
/// reply (or a few other errors) makes it reload the map.
///
/// The command is **never sent again** here. The error seen last says nothing about the first
/// attempt: the `redis` crate retries internally (it reconnects after a dropped connection and
/// retries other I/O errors, up to its `retries` setting), so a script that ran, and replicated,
/// on the primary before it died answers `Connection refused` all the same, and sending it
/// again would run it twice on the promoted replica. The error is returned; the next call goes
/// to the new primary once the cluster has promoted one.
pub(crate) fn recovering<F>(
    connection: &mut ClusterConnection,
    command: &Cmd,
    mut send: F,
) -> redis::RedisResult<Value>
where
    F: FnMut(&mut ClusterConnection) -> redis::RedisResult<Value>,
{
    let reply = send(connection);
    if let Err(error) = &reply
        && error.is_io_error()
    {
        reload_slot_map(connection, first_key(command).unwrap_or(PROBE_KEY));
    }
    reply
}

/// The key asked for when the command has none: any key does, as a `MOVED` for any slot
/// reloads the whole map.
const PROBE_KEY: &[u8] = b"redis-script:slot-map-probe";

/// Makes the `redis` crate reload its slot map, deterministically: `EXISTS key` goes by address
/// to a healthy primary that, according to `CLUSTER NODES`, does not own the key's slot, so
/// that it must answer `MOVED`, which reloads the map before the crate follows the redirect.
///
/// If the node asked for `CLUSTER NODES` has not yet learnt of the failover, the redirect points
/// at the dead primary, the reload gets the old map, and the next I/O error tries again. In a
/// cluster of one shard there is no such node, and nothing is sent.
fn reload_slot_map(connection: &mut ClusterConnection, key: &[u8]) {
    let Ok(nodes) = nodes_sync(connection) else {
        return;
    };
    // The node asked for `CLUSTER NODES` may not yet know that a primary died, and the `redis`
    // crate retries a request to an unreachable address with a growing backoff (minutes in
    // all): only a node that accepts a connection now is asked.
    let slot = hash_slot(key);
    let Some(node) = redirecting_nodes(&nodes, slot).find(|node| node.accepts_connections()) else {
        return;
    };
    let mut exists = redis::cmd("EXISTS");
    exists.arg(key);
    // The answer does not matter, only the MOVED on the way to it.
    let _ = connection.route_command(&exists, node.routing());
}

/// The nodes that answer `MOVED` for `slot`: primaries that do not own it, not flagged as
/// failing, whose cluster link is up.
fn redirecting_nodes(nodes: &[Node], slot: u16) -> impl Iterator<Item = &Node> {
    nodes.iter().filter(move |node| {
        node.primary
            && node.healthy
            && !node
                .slots
                .iter()
                .any(|&(first, last)| (first..=last).contains(&slot))
    })
}

/// The first of [`redirecting_nodes`].
#[cfg(test)]
fn redirecting_node(nodes: &[Node], slot: u16) -> Option<&Node> {
    redirecting_nodes(nodes, slot).next()
}

/// The first key of `EVALSHA sha1 numkeys key...`, if there is one.
fn first_key(command: &Cmd) -> Option<&[u8]> {
    let mut args = command.args_iter().skip(2);
    match (args.next(), args.next()) {
        (Some(Arg::Simple(count)), Some(Arg::Simple(key))) if count != b"0" => Some(key),
        _ => None,
    }
}

/// The asynchronous [`invoke`]. The command is built before the future is returned, so the
/// future borrows only the connection.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let count =
///     redis_script::cluster::invoke_async(&Incr { counter: "visits" }, &mut connection).await?;
/// # Ok(()) }
/// ```
pub fn invoke_async<'c, S: Script + ?Sized>(
    script: &S,
    connection: &'c mut AsyncClusterConnection,
) -> impl Future<Output = Result<S::Output, Error>> + Send + use<'c, S> {
    let evalsha = script.evalsha_command();
    let details = Details::of::<S>();
    let span = details.span(&evalsha);
    let fallback = span.clone();
    span.instrument(async move {
        details.check_slots(&evalsha)?;
        let routing = RoutingInfo::SingleNode(routing(&evalsha, details.read_only));
        let mut reply = server_error_as_err(
            connection
                .route_command(evalsha.clone(), routing.clone())
                .await,
        );
        if is_noscript(&reply) {
            fallback.record_fallback();
            let eval = details.eval_command(&evalsha);
            reply = server_error_as_err(connection.route_command(eval, routing).await);
        }
        details.convert(reply)
    })
}

/// [`Script::invoke_and_wait_async`] on an asynchronous cluster connection, with the pipeline
/// routed explicitly: by the script's first key to the primary (`WAIT` only means something
/// there), or to a random primary for a script without keys.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let script = Incr { counter: "{user:1}:visits" };
/// let done = redis_script::cluster::invoke_and_wait_async(
///     &script, &mut connection, 1, Duration::from_millis(500),
/// ).await?;
/// println!("{} (on {} replicas)", done.value, done.replicas);
/// # Ok(()) }
/// ```
pub fn invoke_and_wait_async<'c, S: Script + ?Sized>(
    script: &S,
    connection: &'c mut AsyncClusterConnection,
    replicas: usize,
    timeout: Duration,
) -> impl Future<Output = Result<Replicated<S::Output>, Error>> + Send + use<'c, S> {
    // WAIT is answered by primaries only, so even a no-writes script goes to one.
    let (evalsha, details) = replication::waiting(script);
    let wait = replication::wait_command(replicas, timeout);
    let span = details.span(&evalsha);
    let fallback = span.clone();
    span.instrument(async move {
        details.check_slots(&evalsha)?;
        let route = routing(&evalsha, false);
        let mut pipeline = redis::pipe();
        pipeline.add_command(evalsha).add_command(wait.clone());
        let mut replies = Replies::from_values(
            connection
                .route_pipeline(pipeline.clone(), 0, 2, route.clone())
                .await,
        )?;
        if replies.is_noscript() {
            fallback.record_fallback();
            let Some(evalsha) = pipeline.cmd_iter().next() else {
                return replies.finish(&details);
            };
            let mut retry = redis::pipe();
            retry
                .add_command(details.eval_command(evalsha))
                .add_command(wait);
            replies = Replies::from_values(connection.route_pipeline(retry, 0, 2, route).await)?;
        }
        replies.finish(&details)
    })
}

/// Where an `EVALSHA sha1 numkeys key...` goes: the first key's primary, or any node of its
/// shard for a read-only script (the client's read strategy decides); without keys, a random
/// primary, or a random node for a read-only script.
pub(crate) fn routing(command: &Cmd, read_only: bool) -> SingleNodeRoutingInfo {
    let mut args = command.args_iter().skip(2);
    let has_keys = matches!(args.next(), Some(Arg::Simple(count)) if count != b"0");
    let first_key = args.next();
    let slot_addr = if read_only {
        SlotAddr::ReplicaOptional
    } else {
        SlotAddr::Master
    };
    match (has_keys, first_key) {
        (true, Some(Arg::Simple(key))) => {
            SingleNodeRoutingInfo::SpecificNode(Route::with_key(key, slot_addr))
        }
        _ if read_only => SingleNodeRoutingInfo::Random,
        _ => SingleNodeRoutingInfo::RandomPrimary,
    }
}

fn script_load(script: &ScriptSource) -> Cmd {
    let mut command = redis::cmd("SCRIPT");
    command.arg("LOAD").arg(script.source);
    command
}

/// The SHA1 a node answered to `SCRIPT LOAD`, checked against the compile-time one.
fn checked_sha1(
    reply: redis::RedisResult<Value>,
    script: &ScriptSource,
) -> Result<String, RedisError> {
    let sha1: String = redis::from_redis_value(server_error_as_err(reply)?)?;
    if sha1.eq_ignore_ascii_case(script.sha1) {
        Ok(sha1)
    } else {
        Err(RedisError::from((
            redis::ErrorKind::Client,
            "SCRIPT LOAD answered another SHA1 than the script's",
            format!("{}: expected {}, got {sha1}", script.path, script.sha1),
        )))
    }
}

/// A node as `CLUSTER NODES` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    host: String,
    port: u16,
    pub(crate) primary: bool,
    /// Neither `fail` nor `fail?`, and its cluster link `connected`.
    healthy: bool,
    /// The slot ranges it serves, inclusive (a single slot is `(n, n)`); slots being migrated
    /// or imported (`[n->-id]`, `[n-<-id]`) are left out.
    slots: Vec<(u16, u16)>,
}

impl Node {
    pub(crate) fn routing(&self) -> RoutingInfo {
        RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: self.host.clone(),
            port: self.port,
        })
    }

    /// Whether a TCP connection to the node succeeds within a quarter second: a killed node
    /// refuses it at once.
    fn accepts_connections(&self) -> bool {
        use std::net::ToSocketAddrs;
        let Some(address) = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
        else {
            return false;
        };
        std::net::TcpStream::connect_timeout(&address, Duration::from_millis(250)).is_ok()
    }

    /// `host:port`, as reports name the node.
    pub(crate) fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn report(self, result: Result<Vec<String>, RedisError>) -> NodeLoad {
        NodeLoad {
            address: self.address(),
            primary: self.primary,
            result,
        }
    }
}

/// How many nodes `CLUSTER NODES` is asked of before giving up (each a random one).
const NODE_LIST_ATTEMPTS: usize = 5;

/// The nodes `CLUSTER NODES` lists, asked of random nodes until one answers.
pub(crate) fn nodes_sync(connection: &mut ClusterConnection) -> Result<Vec<Node>, Error> {
    let mut last = None;
    for _ in 0..NODE_LIST_ATTEMPTS {
        match connection.route_command(&cluster_nodes(), random_node()) {
            Ok(reply) => return parse_reply(reply),
            Err(error) => last = Some(error),
        }
    }
    Err(no_node_list(last))
}

/// The asynchronous [`nodes_sync`].
pub(crate) async fn nodes_async(
    connection: &mut AsyncClusterConnection,
) -> Result<Vec<Node>, Error> {
    let mut last = None;
    for _ in 0..NODE_LIST_ATTEMPTS {
        match connection
            .route_command(cluster_nodes(), random_node())
            .await
        {
            Ok(reply) => return parse_reply(reply),
            Err(error) => last = Some(error),
        }
    }
    Err(no_node_list(last))
}

fn cluster_nodes() -> Cmd {
    let mut command = redis::cmd("CLUSTER");
    command.arg("NODES");
    command
}

fn random_node() -> RoutingInfo {
    RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random)
}

fn no_node_list(last: Option<RedisError>) -> Error {
    Error::Redis(last.unwrap_or_else(|| {
        RedisError::from((redis::ErrorKind::Client, "no node answered CLUSTER NODES"))
    }))
}

fn parse_reply(reply: Value) -> Result<Vec<Node>, Error> {
    let text: String = redis::from_redis_value(server_error_as_err(Ok(reply))?)
        .map_err(|error| Error::Redis(error.into()))?;
    Ok(parse_cluster_nodes(&text))
}

/// The reachable-looking nodes of a `CLUSTER NODES` reply: every line
/// `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <epoch> <link>
/// <slot>...` whose address is known, `fail` ones included (they are tried, and reported as
/// failed, rather than silently skipped).
fn parse_cluster_nodes(text: &str) -> Vec<Node> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_id, address, flags) = (fields.next()?, fields.next()?, fields.next()?);
            let link = fields.nth(4);
            let slots = fields.filter_map(parse_slot_range).collect();
            let flags: Vec<&str> = flags.split(',').collect();
            if flags
                .iter()
                .any(|flag| matches!(*flag, "noaddr" | "handshake"))
            {
                return None;
            }
            let address = address.split(['@', ',']).next()?;
            let (host, port) = address.rsplit_once(':')?;
            let port: u16 = port.parse().ok()?;
            if host.is_empty() || port == 0 {
                return None;
            }
            let failing = flags.iter().any(|flag| matches!(*flag, "fail" | "fail?"));
            Some(Node {
                host: host.to_owned(),
                port,
                primary: flags.contains(&"master"),
                healthy: !failing && link == Some("connected"),
                slots,
            })
        })
        .collect()
}

/// `first-last` or `slot`; `None` for a migration entry (`[...]`) or anything unparsable.
fn parse_slot_range(field: &str) -> Option<(u16, u16)> {
    let (first, last) = field.split_once('-').unwrap_or((field, field));
    Some((first.parse().ok()?, last.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster seen in the middle of a failover: 30001 (slots 0-5460) has failed and 30004,
    /// its replica, has taken over; 30005 has lost its link; 30003 is importing a slot.
    const FAILED_OVER: &str = "\
07c3 127.0.0.1:30004@31004 master - 0 1426238317239 4 connected 0-5460
67ed 127.0.0.1:30002@31002,node-2 master - 0 1426238316232 2 connected 5461-10921 10922
292f 127.0.0.1:30003@31003 myself,master - 0 0 3 connected 10923-16383 [5000-<-07c3]
9fd8 :0@0 master,noaddr - 0 0 0 disconnected
6ec2 127.0.0.1:30001@31001 master,fail - 1426238316232 0 1 disconnected
1a2b 127.0.0.1:30005@31005 slave 67ed 0 1426238316232 2 disconnected
3c4d 127.0.0.1:30006@31006 slave,fail? 292f 0 1426238316232 3 connected
";

    #[test]
    fn parses_cluster_nodes() {
        type Summary = (u16, bool, bool, Vec<(u16, u16)>);
        let summary: Vec<Summary> = parse_cluster_nodes(FAILED_OVER)
            .into_iter()
            .map(|node| {
                assert_eq!(node.host, "127.0.0.1");
                (node.port, node.primary, node.healthy, node.slots)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (30004, true, true, vec![(0, 5460)]),
                (30002, true, true, vec![(5461, 10921), (10922, 10922)]),
                (30003, true, true, vec![(10923, 16383)]),
                (30001, true, false, vec![]),
                (30005, false, false, vec![]),
                (30006, false, false, vec![]),
            ]
        );
    }

    #[test]
    fn the_slot_map_probe_goes_to_a_healthy_primary_that_does_not_own_the_slot() {
        let nodes = parse_cluster_nodes(FAILED_OVER);
        let port = |slot| redirecting_node(&nodes, slot).map(|node| node.port);
        // The dead 30001 owned slot 0 before: never chosen, nor the new owner 30004.
        assert_eq!(port(0), Some(30002));
        assert_eq!(port(10922), Some(30004));
        assert_eq!(port(16383), Some(30004));
        for slot in [0, 5460, 5461, 10922, 10923, 16383] {
            let node = redirecting_node(&nodes, slot).expect("a redirecting node");
            assert!(node.primary && node.healthy);
            assert!(!node.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)));
        }
        // One shard: every primary owns the slot, nothing can answer MOVED.
        let one_shard = "07c3 127.0.0.1:30004@31004 myself,master - 0 0 4 connected 0-16383\n";
        assert_eq!(redirecting_node(&parse_cluster_nodes(one_shard), 42), None);
    }

    #[test]
    fn routes_by_first_key_or_to_a_primary() {
        let mut keyed = redis::cmd("EVALSHA");
        keyed.arg("sha").arg(2).arg("{u}a").arg("{u}b");
        let expected = |addr| SingleNodeRoutingInfo::SpecificNode(Route::with_key("{u}a", addr));
        assert_eq!(routing(&keyed, false), expected(SlotAddr::Master));
        assert_eq!(routing(&keyed, true), expected(SlotAddr::ReplicaOptional));
        let mut keyless = redis::cmd("EVALSHA");
        keyless.arg("sha").arg(0).arg("an-arg");
        assert_eq!(
            routing(&keyless, false),
            SingleNodeRoutingInfo::RandomPrimary
        );
        assert_eq!(routing(&keyless, true), SingleNodeRoutingInfo::Random);
    }
}
