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
//! The asynchronous cluster connection of the `redis` crate (1.8) recovers from a `kill -9` of
//! a primary by itself: calls made during the failover wait and then succeed on the promoted
//! replica. Its **synchronous** connection does not: it keeps connecting to the dead primary's
//! address and answers `Connection refused` to every call, even long after a replica has taken
//! over, because only a `MOVED` reply makes it reload its slot map. [`invoke`] and
//! [`invoke_and_wait`] work around it: on an I/O error they provoke that `MOVED` (see
//! `recovering` in the source) and, when the connection was refused (so nothing ran), send
//! once more. The generic [`Script::invoke`] on a synchronous cluster connection recovers only
//! once something else reloads the slot map (such as a call to [`invoke`]); or open a new
//! connection.

use std::future::Future;
use std::time::Duration;

use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Arg, Cmd, RedisError, Value};

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

/// [`Script::invoke_and_wait`] on a synchronous cluster connection, with the same recovery
/// from a dead primary as [`invoke`]. The pipeline goes where the `redis` crate routes its
/// first command: the primary of the script's first key. A script without keys has no such
/// route on the synchronous connection (it may reach a replica, which refuses `WAIT`): use
/// [`invoke_and_wait_async`] for those.
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
    let evalsha = script.evalsha_command();
    let details = Details::of::<S>();
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

/// Sends with `send`, and recovers from a dead primary, which the synchronous cluster
/// connection of the `redis` crate (1.8) does not do by itself: after a `kill -9` it keeps
/// connecting to the dead node's address, answering `Connection refused` on every call, even
/// long after a replica has taken over, because only a `MOVED` reply (or a few other errors)
/// makes it reload its slot map.
///
/// So on an I/O error this provokes `MOVED`: it asks random nodes whether the command's first
/// key exists, and a node that does not own the key's slot redirects, which reloads the map.
/// When the error was a refused connection (nothing was sent, so nothing ran) the command is
/// sent once more; after any other I/O error it may have run, so the error is returned for the
/// caller to decide, and the next call goes to the new primary.
fn recovering<F>(
    connection: &mut ClusterConnection,
    command: &Cmd,
    mut send: F,
) -> redis::RedisResult<Value>
where
    F: FnMut(&mut ClusterConnection) -> redis::RedisResult<Value>,
{
    let reply = send(connection);
    let refused = match &reply {
        Err(error) if error.is_io_error() => error.is_connection_refusal(),
        _ => return reply,
    };
    let Some(key) = first_key(command) else {
        return reply;
    };
    let mut exists = redis::cmd("EXISTS");
    exists.arg(key);
    for _ in 0..SLOT_MAP_PROBES {
        // The answer does not matter, only the MOVED on the way to it.
        let _ = connection.route_command(&exists, random_node());
    }
    if refused { send(connection) } else { reply }
}

/// How many random nodes are asked for the key after an I/O error: each one that does not own
/// the key's slot (all but one) makes the client reload its slot map.
const SLOT_MAP_PROBES: usize = 2;

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
    let evalsha = script.evalsha_command();
    let details = Details::of::<S>();
    let wait = replication::wait_command(replicas, timeout);
    let span = details.span(&evalsha);
    let fallback = span.clone();
    span.instrument(async move {
        details.check_slots(&evalsha)?;
        // WAIT is answered by primaries only, so even a no-writes script goes to one.
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
fn routing(command: &Cmd, read_only: bool) -> SingleNodeRoutingInfo {
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
struct Node {
    host: String,
    port: u16,
    primary: bool,
}

impl Node {
    fn routing(&self) -> RoutingInfo {
        RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: self.host.clone(),
            port: self.port,
        })
    }

    fn report(self, result: Result<Vec<String>, RedisError>) -> NodeLoad {
        NodeLoad {
            address: format!("{}:{}", self.host, self.port),
            primary: self.primary,
            result,
        }
    }
}

/// How many nodes `CLUSTER NODES` is asked of before giving up (each a random one).
const NODE_LIST_ATTEMPTS: usize = 5;

fn nodes_sync(connection: &mut ClusterConnection) -> Result<Vec<Node>, Error> {
    let mut last = None;
    for _ in 0..NODE_LIST_ATTEMPTS {
        match connection.route_command(&cluster_nodes(), random_node()) {
            Ok(reply) => return parse_reply(reply),
            Err(error) => last = Some(error),
        }
    }
    Err(no_node_list(last))
}

async fn nodes_async(connection: &mut AsyncClusterConnection) -> Result<Vec<Node>, Error> {
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
/// `<id> <ip:port@cport[,hostname]> <flags> ...` whose address is known, `fail` ones included
/// (they are tried, and reported as failed, rather than silently skipped).
fn parse_cluster_nodes(text: &str) -> Vec<Node> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_id, address, flags) = (fields.next()?, fields.next()?, fields.next()?);
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
            Some(Node {
                host: host.to_owned(),
                port,
                primary: flags.contains(&"master"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cluster_nodes() {
        let text = "\
07c3 127.0.0.1:30004@31004 slave e7d1 0 1426238317239 4 connected
67ed 127.0.0.1:30002@31002,node-2 master - 0 1426238316232 2 connected 5461-10922
292f 127.0.0.1:30003@31003 myself,master - 0 0 3 connected 10923-16383
9fd8 :0@0 master,noaddr - 0 0 0 disconnected
6ec2 127.0.0.1:30001@31001 master,fail - 1426238316232 0 1 disconnected 0-5460
";
        let nodes = parse_cluster_nodes(text);
        let summary: Vec<(String, u16, bool)> = nodes
            .into_iter()
            .map(|node| (node.host, node.port, node.primary))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("127.0.0.1".into(), 30004, false),
                ("127.0.0.1".into(), 30002, true),
                ("127.0.0.1".into(), 30003, true),
                ("127.0.0.1".into(), 30001, true),
            ]
        );
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
