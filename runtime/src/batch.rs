//! Many invocations across a Redis Cluster: grouped by node, pipelined, all nodes at once.
//!
//! [`ClusterBatch`] takes invocations of any scripts, finds each one's primary from the hash
//! slot of its first key (`CLUSTER SLOTS`, kept in [`ClusterNodes`]), sends each primary its
//! share as pipelines in the order added, runs all primaries concurrently, and returns the
//! replies in the order added.
//!
//! # Guarantees
//!
//! - **No `NOSCRIPT`.** Invocations go out as `EVAL` with the source, for the reason given in
//!   the [pipeline module](crate::pipeline): in a plain pipeline a `SCRIPT FLUSH` can land
//!   between any two commands, and an `EVALSHA` that fails there cannot be replayed without
//!   reordering it after the commands that followed it.
//! - **Exactly once.** Only what a node says it did not run is sent again: replies `MOVED`
//!   (to the node it names), `ASK` (to the node it names, preceded by `ASKING` in the same
//!   pipeline), `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING` and `READONLY` (a primary
//!   demoted by a failover), after fetching `CLUSTER SLOTS` again; and invocations whose node
//!   could not be connected to (nothing was sent). Up to [`MAX_ROUNDS`] rounds; what still did
//!   not run keeps its last error, which says so.
//! - **Order.** The invocations of one slot go to one node, in one pipeline per round, in the
//!   order added, so they run in that order; those sent again run after the round that refused
//!   them, still in the order added. While a slot migrates (`ASK`), keys already moved are sent
//!   again while keys not yet moved ran in the first round, so order then holds per key.
//!
//! What nobody can promise: if a connection breaks while a pipeline is in flight, some, all or
//! none of it may have run. Those invocations get the I/O error ([`Error::is_io_error`]) and
//! are **not** sent again; the connection is dropped and `CLUSTER SLOTS` fetched again, so
//! after a failover the next run reaches the promoted replica (the caller decides whether to
//! resend what failed, e.g. after checking its effects).
//!
//! # Why not the `redis` crate's cluster connection
//!
//! `redis::cluster_async::ClusterConnection::route_pipeline` (redis 1.8) sends the **whole**
//! pipeline again, to the redirect target, when any one reply is `MOVED`, `ASK`, `TRYAGAIN`,
//! ...: commands that already ran run again, and a pipeline whose slots are split between two
//! nodes bounces between them, running its commands once per bounce
//! (`tests/tests/exactly_once.rs` pins this). So batches use connections of their own, one
//! multiplexed connection per primary, made with the seed's settings (credentials, TLS,
//! protocol), and handle redirects themselves.

use std::collections::{BTreeMap, HashMap};

use redis::aio::MultiplexedConnection;
use redis::{
    Arg, Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo, RedisError,
    ServerErrorKind, Value,
};
use redis_script_analysis::{SLOT_COUNT, hash_slot};

use crate::pipeline::{Replies, ScriptInfo, Ticket, eval_command};
use crate::{Error, Script};

/// How many times an invocation is sent at most.
pub const MAX_ROUNDS: usize = 5;

/// Commands per pipeline: a node's share is sent as consecutive pipelines of at most this many.
const CHUNK: usize = 1024;

/// A node of the cluster, as `CLUSTER SLOTS` and redirects name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Address {
    host: String,
    port: u16,
}

impl Address {
    /// `host:port` as in a `MOVED`/`ASK` reply (IPv6 hosts are not bracketed there).
    fn parse(text: &str) -> Option<Address> {
        let (host, port) = text.rsplit_once(':')?;
        Some(Address {
            host: host.to_owned(),
            port: port.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Which primary serves each hash slot, from `CLUSTER SLOTS`.
///
/// ```
/// let map = redis_script::batch::SlotMap::default();
/// assert_eq!((map.primaries(), map.primary(0)), (0, None));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SlotMap {
    /// Index into `nodes` for each slot; `NO_OWNER` for a slot no node serves.
    owners: Vec<usize>,
    nodes: Vec<Address>,
}

const NO_OWNER: usize = usize::MAX;

impl SlotMap {
    /// Builds the map from a `CLUSTER SLOTS` reply; `asked` is the host of the node that
    /// answered, for entries with an empty host.
    fn parse(reply: Value, asked: &str) -> Result<Self, Error> {
        let invalid = |detail: String| {
            Error::Redis(RedisError::from((
                ErrorKind::UnexpectedReturnType,
                "unexpected CLUSTER SLOTS reply",
                detail,
            )))
        };
        let ranges = match reply {
            Value::Array(ranges) => ranges,
            Value::ServerError(error) => return Err(Error::Redis(error.into())),
            other => return Err(invalid(format!("{other:?}"))),
        };
        let mut map = SlotMap {
            owners: vec![NO_OWNER; usize::from(SLOT_COUNT)],
            nodes: Vec::new(),
        };
        for range in ranges {
            let Value::Array(fields) = &range else {
                return Err(invalid(format!("{range:?}")));
            };
            let parsed = match (fields.first(), fields.get(1), fields.get(2)) {
                (Some(start), Some(end), Some(primary)) => {
                    as_int(start).zip(as_int(end)).and_then(|(start, end)| {
                        Some((
                            usize::try_from(start).ok()?,
                            usize::try_from(end).ok()?,
                            as_address(primary, asked)?,
                        ))
                    })
                }
                _ => None,
            };
            let Some((start, end, address)) = parsed else {
                return Err(invalid(format!("{fields:?}")));
            };
            if start > end || end >= usize::from(SLOT_COUNT) {
                return Err(invalid(format!("slot range {start}-{end}")));
            }
            let node = match map.nodes.iter().position(|known| *known == address) {
                Some(node) => node,
                None => {
                    map.nodes.push(address);
                    map.nodes.len() - 1
                }
            };
            for owner in &mut map.owners[start..=end] {
                *owner = node;
            }
        }
        Ok(map)
    }

    /// The primary serving `slot`, as `host:port`; `None` if no node serves it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), redis_script::Error> {
    /// let nodes = redis_script::batch::ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
    /// println!("slot 0 is served by {:?}", nodes.slot_map().primary(0));
    /// # Ok(()) }
    /// ```
    pub fn primary(&self, slot: u16) -> Option<String> {
        self.owner(slot).map(|node| self.nodes[node].to_string())
    }

    /// The number of primaries that serve slots.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), redis_script::Error> {
    /// let nodes = redis_script::batch::ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
    /// assert_eq!(nodes.slot_map().primaries(), 3);
    /// # Ok(()) }
    /// ```
    pub fn primaries(&self) -> usize {
        self.nodes.len()
    }

    fn owner(&self, slot: u16) -> Option<usize> {
        match self.owners.get(usize::from(slot)) {
            Some(&node) if node != NO_OWNER => Some(node),
            _ => None,
        }
    }
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(number) => Some(*number),
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        _ => None,
    }
}

fn as_address(value: &Value, asked: &str) -> Option<Address> {
    let Value::Array(fields) = value else {
        return None;
    };
    let host = match fields.first()? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok()?,
        Value::SimpleString(text) => text.clone(),
        _ => return None,
    };
    let host = if host.is_empty() {
        asked.to_owned()
    } else {
        host
    };
    let port = u16::try_from(as_int(fields.get(1)?)?).ok()?;
    Some(Address { host, port })
}

/// Connections to the primaries of one Redis Cluster, and its slot map: what a
/// [`ClusterBatch`] runs on. Connections are made on first use with the settings of the seed
/// (username, password, database, protocol, TLS) and kept; the slot map is fetched on
/// [`connect`](Self::connect) and again whenever a node redirects an invocation.
///
/// ```no_run
/// # async fn run() -> Result<(), redis_script::Error> {
/// use redis_script::batch::ClusterNodes;
///
/// let mut nodes = ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
/// assert_eq!(nodes.slot_map().primaries(), 3);
/// # Ok(()) }
/// ```
pub struct ClusterNodes {
    seed: ConnectionInfo,
    map: SlotMap,
    connections: HashMap<Address, MultiplexedConnection>,
}

impl std::fmt::Debug for ClusterNodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNodes")
            .field("map", &self.map)
            .field("connected", &self.connections.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ClusterNodes {
    /// Connects to `seed` (any node of the cluster, e.g. `"redis://127.0.0.1:7000/"` or a
    /// [`ConnectionInfo`]) and fetches `CLUSTER SLOTS`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), redis_script::Error> {
    /// let nodes = redis_script::batch::ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect<T: IntoConnectionInfo>(seed: T) -> Result<Self, Error> {
        let seed = seed.into_connection_info()?;
        let mut nodes = ClusterNodes {
            seed,
            map: SlotMap::default(),
            connections: HashMap::new(),
        };
        nodes.refresh().await?;
        Ok(nodes)
    }

    /// Fetches `CLUSTER SLOTS` again, from the first node that answers: the known primaries,
    /// then the seed.
    ///
    /// ```no_run
    /// # async fn run(nodes: &mut redis_script::batch::ClusterNodes) -> Result<(), redis_script::Error> {
    /// nodes.refresh().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&mut self) -> Result<(), Error> {
        let mut candidates: Vec<Address> = self.map.nodes.clone();
        if let Some(seed) = self.seed_address() {
            candidates.push(seed);
        }
        let mut last = None;
        for address in candidates {
            let mut command = redis::cmd("CLUSTER");
            command.arg("SLOTS");
            let reply = match self.connection(&address).await {
                Ok(mut connection) => connection.send_packed_command(&command).await,
                Err(error) => Err(error),
            };
            match reply.map(|reply| SlotMap::parse(reply, &address.host)) {
                Ok(Ok(map)) if map.primaries() > 0 => {
                    self.map = map;
                    return Ok(());
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => last = Some(error),
                Err(error) => last = Some(Error::Redis(error)),
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::Redis(RedisError::from((
                ErrorKind::Client,
                "no node of the cluster answered CLUSTER SLOTS",
            )))
        }))
    }

    /// The slot map as last fetched.
    ///
    /// ```no_run
    /// # async fn run(nodes: &redis_script::batch::ClusterNodes) {
    /// println!("{:?}", nodes.slot_map().primary(16383));
    /// # }
    /// ```
    pub fn slot_map(&self) -> &SlotMap {
        &self.map
    }

    fn seed_address(&self) -> Option<Address> {
        match self.seed.addr() {
            ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
                Some(Address {
                    host: host.clone(),
                    port: *port,
                })
            }
            _ => None,
        }
    }

    /// The connection to `address`, made with the seed's settings if there is none yet.
    async fn connection(&mut self, address: &Address) -> Result<MultiplexedConnection, RedisError> {
        if let Some(connection) = self.connections.get(address) {
            return Ok(connection.clone());
        }
        let addr = match self.seed.addr() {
            ConnectionAddr::Tcp(..) => ConnectionAddr::Tcp(address.host.clone(), address.port),
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host: address.host.clone(),
                port: address.port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            other => {
                return Err(RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "a cluster batch needs a TCP seed address",
                    format!("{other:?}"),
                )));
            }
        };
        let info = self.seed.clone().set_addr(addr);
        let connection = redis::Client::open(info)?
            .get_multiplexed_async_connection()
            .await?;
        self.connections.insert(address.clone(), connection.clone());
        Ok(connection)
    }
}

/// One invocation of a batch.
#[derive(Clone, Debug)]
struct Entry {
    command: Cmd,
    script: ScriptInfo,
    /// The slot of the first key; `None` for a script without keys.
    slot: Option<u16>,
}

/// The slot of an `EVAL source numkeys key...` command's first key.
fn first_key_slot(command: &Cmd) -> Option<u16> {
    let mut args = command.args_iter().skip(2);
    let numkeys = match args.next()? {
        Arg::Simple(bytes) => std::str::from_utf8(bytes).ok()?.parse::<usize>().ok()?,
        _ => return None,
    };
    if numkeys == 0 {
        return None;
    }
    match args.next()? {
        Arg::Simple(key) => Some(hash_slot(key)),
        _ => None,
    }
}

/// Where an invocation goes next.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// The owner of its slot in the slot map (any primary for a script without keys).
    BySlot,
    /// The node a `MOVED` named.
    Moved(Address),
    /// The node an `ASK` named, with `ASKING` first.
    Ask(Address),
}

/// What a reply means for the batch.
enum Outcome {
    /// It ran (successfully or not): final.
    Done,
    /// The node did not run it; send it again to this target.
    Again(Target),
}

fn outcome(reply: &Result<Value, RedisError>) -> Outcome {
    let redirect = |error: &redis::ServerError| {
        // "MOVED 3999 127.0.0.1:6381": the detail is "<slot> <host:port>".
        error
            .details()
            .and_then(|detail| detail.split_whitespace().nth(1))
            .and_then(Address::parse)
    };
    match reply {
        Ok(Value::ServerError(error)) => match error.kind() {
            Some(ServerErrorKind::Moved) => {
                Outcome::Again(redirect(error).map_or(Target::BySlot, Target::Moved))
            }
            Some(ServerErrorKind::Ask) => {
                Outcome::Again(redirect(error).map_or(Target::BySlot, Target::Ask))
            }
            Some(
                ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::BusyLoading
                | ServerErrorKind::ReadOnly,
            ) => Outcome::Again(Target::BySlot),
            _ => Outcome::Done,
        },
        Ok(_) => Outcome::Done,
        // Connecting failed, so nothing was sent.
        Err(error) if error.kind() == ErrorKind::ClusterConnectionNotFound => {
            Outcome::Again(Target::BySlot)
        }
        Err(_) => Outcome::Done,
    }
}

fn not_connected(address: &Address, error: &RedisError) -> RedisError {
    RedisError::from((
        ErrorKind::ClusterConnectionNotFound,
        "cannot connect to the cluster node; the invocation was not sent",
        format!("{address}: {error}"),
    ))
}

/// Many script invocations, possibly of different scripts, run across a Redis Cluster in one
/// call: grouped by primary, pipelined per primary, all primaries at once, replies in the
/// order added. See the [module documentation](crate::batch) for the guarantees.
///
/// ```no_run
/// # #[derive(redis_script::RedisScript)]
/// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// # struct Incr<'a> { #[key] counter: &'a str }
/// use redis_script::batch::{ClusterBatch, ClusterNodes};
///
/// # async fn run() -> Result<(), redis_script::Error> {
/// let mut nodes = ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
/// let counters: Vec<String> = (0..1000).map(|i| format!("counter:{i}")).collect();
/// let mut batch = ClusterBatch::new();
/// let tickets: Vec<_> = counters.iter().map(|c| batch.invoke(&Incr { counter: c })).collect();
/// let replies = batch.run_async(&mut nodes).await?;
/// for ticket in tickets {
///     let count: i64 = replies.get(ticket)?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClusterBatch {
    entries: Vec<Entry>,
}

impl ClusterBatch {
    /// An empty batch.
    ///
    /// ```
    /// assert!(redis_script::batch::ClusterBatch::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an invocation; its reply converts into the script's `returns` type.
    ///
    /// ```
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// let mut batch = redis_script::batch::ClusterBatch::new();
    /// let ticket = batch.invoke(&Incr { counter: "a" });
    /// assert_eq!((ticket.index(), batch.len()), (0, 1));
    /// ```
    pub fn invoke<S: Script + ?Sized>(&mut self, script: &S) -> Ticket<S::Output> {
        let command = eval_command(script);
        let slot = first_key_slot(&command);
        self.entries.push(Entry {
            command,
            script: ScriptInfo::of::<S>(),
            slot,
        });
        Ticket::new(self.entries.len() - 1)
    }

    /// The number of invocations added.
    ///
    /// ```
    /// assert_eq!(redis_script::batch::ClusterBatch::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was added.
    ///
    /// ```
    /// assert!(redis_script::batch::ClusterBatch::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs the batch. Fails as a whole only if the slot guard refuses an invocation (before
    /// anything is sent); every other failure is the failed invocation's own reply in
    /// [`Replies`]. The batch is kept and can be run again.
    ///
    /// ```no_run
    /// # #[derive(redis_script::RedisScript)]
    /// # #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
    /// # struct Incr<'a> { #[key] counter: &'a str }
    /// # async fn run(nodes: &mut redis_script::batch::ClusterNodes) -> Result<(), redis_script::Error> {
    /// let mut batch = redis_script::batch::ClusterBatch::new();
    /// let ticket = batch.invoke(&Incr { counter: "a" });
    /// let count = batch.run_async(nodes).await?.get(ticket)?;
    /// # Ok(()) }
    /// ```
    pub async fn run_async(&self, nodes: &mut ClusterNodes) -> Result<Replies, Error> {
        let span = crate::observe::Span::batch("cluster", self.len(), self.len());
        let run = async {
            for entry in &self.entries {
                entry.script.check_slots(&entry.command)?;
            }
            let mut replies: Vec<Result<Value, RedisError>> = vec![Ok(Value::Nil); self.len()];
            let mut pending: Vec<(usize, Target)> = (0..self.len())
                .map(|index| (index, Target::BySlot))
                .collect();
            let mut node_count = 0;
            let mut retried = 0;
            for round in 0..MAX_ROUNDS {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    retried += pending.len();
                    // A redirect or refusal means the map is stale; a failed refresh keeps
                    // the old map (the redirects still name their targets).
                    let _ = nodes.refresh().await;
                }
                let used = self.send_round(nodes, &pending, &mut replies).await;
                node_count = node_count.max(used);
                pending = pending
                    .into_iter()
                    .filter_map(|(index, _)| match outcome(&replies[index]) {
                        Outcome::Done => None,
                        Outcome::Again(target) => Some((index, target)),
                    })
                    .collect();
            }
            Ok::<_, Error>((self.replies(replies), node_count, retried))
        };
        let (replies, node_count, retried) = span.instrument(run).await?;
        span.record_nodes(node_count, retried);
        Ok(replies)
    }

    /// Sends `pending` (in the order added), grouped by node, all nodes concurrently; returns
    /// how many nodes were used.
    async fn send_round(
        &self,
        nodes: &mut ClusterNodes,
        pending: &[(usize, Target)],
        replies: &mut [Result<Value, RedisError>],
    ) -> usize {
        // Per node, the invocations in the order added, each with whether it needs ASKING.
        let mut shares: BTreeMap<Address, Vec<(usize, bool)>> = BTreeMap::new();
        let mut keyless = 0usize;
        for (index, target) in pending {
            let (address, asking) = match target {
                Target::Moved(address) => (Some(address.clone()), false),
                Target::Ask(address) => (Some(address.clone()), true),
                Target::BySlot => {
                    let owner = match self.entries[*index].slot {
                        Some(slot) => nodes.map.owner(slot),
                        None => {
                            keyless += 1;
                            Some(keyless % nodes.map.nodes.len().max(1))
                        }
                    };
                    (
                        owner.and_then(|node| nodes.map.nodes.get(node).cloned()),
                        false,
                    )
                }
            };
            match address {
                Some(address) => shares.entry(address).or_default().push((*index, asking)),
                None => {
                    replies[*index] = Err(RedisError::from((
                        ErrorKind::ClusterConnectionNotFound,
                        "no primary serves the slot of the invocation's first key",
                        format!("slot {:?}", self.entries[*index].slot),
                    )));
                }
            }
        }
        let node_count = shares.len();
        let mut runs = Vec::with_capacity(node_count);
        for (address, share) in shares {
            match nodes.connection(&address).await {
                Ok(connection) => {
                    let run = self.send_share(connection, share);
                    runs.push(async move { (address, run.await) });
                }
                Err(error) => {
                    let error = not_connected(&address, &error);
                    for (index, _) in share {
                        replies[index] = Err(error.clone());
                    }
                }
            }
        }
        let mut any_broken = false;
        for (address, results) in futures_util::future::join_all(runs).await {
            let mut broken = false;
            for (index, reply) in results {
                broken |= reply.as_ref().is_err_and(RedisError::is_io_error);
                replies[index] = reply;
            }
            if broken {
                // Connect again next time: the node may be back, or replaced by its replica.
                nodes.connections.remove(&address);
                any_broken = true;
            }
        }
        if any_broken {
            let _ = nodes.refresh().await;
        }
        node_count
    }

    /// One node's share: consecutive pipelines, each waited for before the next, so that they
    /// run in order.
    async fn send_share(
        &self,
        mut connection: MultiplexedConnection,
        share: Vec<(usize, bool)>,
    ) -> Vec<(usize, Result<Value, RedisError>)> {
        let mut results = Vec::with_capacity(share.len());
        for chunk in share.chunks(CHUNK) {
            let mut pipeline = redis::Pipeline::with_capacity(chunk.len());
            for &(index, asking) in chunk {
                if asking {
                    pipeline.cmd("ASKING").ignore();
                }
                pipeline.add_command(self.entries[index].command.clone());
            }
            let sent = pipeline.len();
            let values = connection.send_packed_commands(&pipeline, 0, sent).await;
            match values {
                Ok(values) if values.len() == sent => {
                    let mut values = values.into_iter();
                    for &(index, asking) in chunk {
                        if asking {
                            values.next(); // ASKING's +OK
                        }
                        let value = values.next().unwrap_or(Value::Nil);
                        results.push((index, Ok(value)));
                    }
                }
                Ok(values) => {
                    let error = RedisError::from((
                        ErrorKind::Client,
                        "unexpected number of pipeline replies",
                        format!("sent {sent}, got {}", values.len()),
                    ));
                    results.extend(chunk.iter().map(|&(index, _)| (index, Err(error.clone()))));
                }
                Err(error) => {
                    results.extend(chunk.iter().map(|&(index, _)| (index, Err(error.clone()))));
                }
            }
        }
        results
    }

    fn replies(&self, values: Vec<Result<Value, RedisError>>) -> Replies {
        let scripts = self
            .entries
            .iter()
            .map(|entry| Some(entry.script))
            .collect();
        Replies::from_results(values, scripts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_reply(ranges: &[(i64, i64, &str, i64)]) -> Value {
        Value::Array(
            ranges
                .iter()
                .map(|&(start, end, host, port)| {
                    Value::Array(vec![
                        Value::Int(start),
                        Value::Int(end),
                        Value::Array(vec![
                            Value::BulkString(host.as_bytes().to_vec()),
                            Value::Int(port),
                            Value::BulkString(b"id".to_vec()),
                        ]),
                    ])
                })
                .collect(),
        )
    }

    #[test]
    fn parses_cluster_slots() {
        let reply = slots_reply(&[(0, 5460, "127.0.0.1", 7000), (5461, 16383, "", 7001)]);
        let map = SlotMap::parse(reply, "10.0.0.1").unwrap();
        assert_eq!(map.primaries(), 2);
        assert_eq!(map.primary(0).as_deref(), Some("127.0.0.1:7000"));
        assert_eq!(map.primary(5461).as_deref(), Some("10.0.0.1:7001"));
        assert_eq!(map.primary(16383).as_deref(), Some("10.0.0.1:7001"));
        let partial = SlotMap::parse(slots_reply(&[(0, 10, "h", 1)]), "").unwrap();
        assert_eq!(partial.primary(11), None);
        assert!(SlotMap::parse(slots_reply(&[(10, 5, "h", 1)]), "").is_err());
        assert!(SlotMap::parse(slots_reply(&[(0, 16384, "h", 1)]), "").is_err());
        assert!(SlotMap::parse(Value::Int(1), "").is_err());
    }

    #[test]
    fn first_key_slot_reads_eval_commands() {
        let mut command = redis::cmd("EVAL");
        command
            .arg("return 1")
            .arg(2)
            .arg("{user1}:a")
            .arg("{user1}:b")
            .arg("x");
        assert_eq!(first_key_slot(&command), Some(hash_slot(b"user1")));
        let mut keyless = redis::cmd("EVAL");
        keyless.arg("return 1").arg(0).arg("x");
        assert_eq!(first_key_slot(&keyless), None);
    }

    #[test]
    fn redirects_name_their_target() {
        let reply = |text: &str| Ok(Value::ServerError(parse_error(text)));
        match outcome(&reply("MOVED 3999 127.0.0.1:6381")) {
            Outcome::Again(Target::Moved(address)) => {
                assert_eq!(address.to_string(), "127.0.0.1:6381")
            }
            _ => panic!("MOVED"),
        }
        assert!(matches!(
            outcome(&reply("ASK 3999 127.0.0.1:6382")),
            Outcome::Again(Target::Ask(_))
        ));
        assert!(matches!(
            outcome(&reply(
                "TRYAGAIN Multiple keys request during rehashing of slot"
            )),
            Outcome::Again(Target::BySlot)
        ));
        assert!(matches!(outcome(&reply("ERR boom")), Outcome::Done));
        assert!(matches!(outcome(&Ok(Value::Int(1))), Outcome::Done));
    }

    /// A server error as the parser makes it from `-<text>\r\n`.
    fn parse_error(text: &str) -> redis::ServerError {
        let bytes = format!("-{text}\r\n");
        match redis::parse_redis_value(bytes.as_bytes()) {
            Ok(Value::ServerError(error)) => error,
            other => panic!("{other:?}"),
        }
    }
}
