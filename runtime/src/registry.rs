//! Every script of the program, registered at link time: list them, load them all at start-up,
//! ask which ones a server is missing.
//!
//! `#[derive(RedisScript)]` registers each struct it is applied to with the
//! [`inventory`](https://docs.rs/inventory) crate, so [`scripts()`] knows every script linked
//! into the program, in every crate, without a list to maintain. (A struct declared inside a
//! function registers too; a struct in a crate that is not linked in does not.)
//!
//! ```no_run
//! # fn main() -> Result<(), redis_script::Error> {
//! let client = redis::Client::open("redis://127.0.0.1/")?;
//! let mut connection = client.get_connection()?;
//! redis_script::registry::load_all(&mut connection)?; // at start-up: one round trip
//! assert!(redis_script::registry::missing(&mut connection)?.is_empty());
//! # Ok(()) }
//! ```
//!
//! Loading is an optimization, never a requirement: every invocation answers `NOSCRIPT` by
//! sending the source, and pipelines cannot fail with it at all. Loading up front saves that
//! one extra round trip per script after a start, a flush or a failover.

use redis::{FromRedisValue, RedisError, Value};

use crate::{Error, ShebangFlags};

/// One script, as registered by `#[derive(RedisScript)]`: its [`Script`](crate::Script)
/// constants.
///
/// ```
/// for script in redis_script::scripts() {
///     println!("{} ({}): {}", script.name, script.path, script.sha1);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisteredScript {
    /// The struct's name.
    pub name: &'static str,
    /// The Lua file, as written in `#[redis_script(path = "...")]`.
    pub path: &'static str,
    /// The lowercase hex SHA1 of the source.
    pub sha1: &'static str,
    /// The source, exactly as sent with `EVAL` / `SCRIPT LOAD`.
    pub source: &'static str,
    /// The flags of its `#!lua flags=...` line.
    pub flags: ShebangFlags,
    /// For a script that includes other files (`--- @include`), where each line of `source`
    /// is written; empty for a script of one file.
    pub source_map: &'static [crate::SourceSegment],
}

inventory::collect!(RegisteredScript);

/// The source map of the registered script with this path and source; empty when it has none
/// (one file) or is not registered. For error messages: a linear search.
pub(crate) fn source_map_of(path: &str, source: &str) -> &'static [crate::SourceSegment] {
    inventory::iter::<RegisteredScript>
        .into_iter()
        .find(|script| script.path == path && script.source == source)
        .map_or(&[], |script| script.source_map)
}

/// Every registered script, sorted by Lua file then struct name. Several structs may share a
/// Lua file (and so a SHA1); each is listed.
///
/// ```
/// #[derive(redis_script::RedisScript)]
/// #[redis_script(path = "lua/doc_incr.lua", returns = i64)]
/// struct Incr<'a> {
///     #[key]
///     counter: &'a str,
/// }
///
/// let listed = redis_script::scripts();
/// assert!(listed.iter().any(|script| script.name == "Incr" && script.path == "lua/doc_incr.lua"));
/// ```
pub fn scripts() -> Vec<&'static RegisteredScript> {
    let mut scripts: Vec<&'static RegisteredScript> =
        inventory::iter::<RegisteredScript>.into_iter().collect();
    scripts.sort_by(|a, b| (a.path, a.name).cmp(&(b.path, b.name)));
    scripts
}

/// The registered scripts with distinct sources, in [`scripts()`] order.
fn distinct() -> Vec<&'static RegisteredScript> {
    let mut seen: Vec<&'static str> = Vec::new();
    scripts()
        .into_iter()
        .filter(|script| {
            let new = !seen.contains(&script.sha1);
            if new {
                seen.push(script.sha1);
            }
            new
        })
        .collect()
}

fn load_pipeline(scripts: &[&'static RegisteredScript]) -> redis::Pipeline {
    let mut pipeline = redis::Pipeline::with_capacity(scripts.len());
    for script in scripts {
        pipeline.add_command(crate::pipeline::load_command(script.source));
    }
    pipeline
}

fn exists_command(scripts: &[&'static RegisteredScript]) -> redis::Cmd {
    let mut command = redis::cmd("SCRIPT");
    command.arg("EXISTS");
    for script in scripts {
        command.arg(script.sha1);
    }
    command
}

/// Checks each `SCRIPT LOAD` reply against the script's SHA1.
fn check_loaded(
    scripts: &[&'static RegisteredScript],
    replies: Vec<Value>,
) -> Result<usize, Error> {
    if replies.len() != scripts.len() {
        return Err(Error::Redis(RedisError::from((
            redis::ErrorKind::Client,
            "unexpected number of SCRIPT LOAD replies",
            format!("sent {}, got {}", scripts.len(), replies.len()),
        ))));
    }
    for (script, reply) in scripts.iter().zip(replies) {
        let sha1 = String::from_redis_value(reply.extract_error()?)
            .map_err(|error| Error::Redis(error.into()))?;
        if !sha1.eq_ignore_ascii_case(script.sha1) {
            return Err(Error::Redis(RedisError::from((
                redis::ErrorKind::Client,
                "SCRIPT LOAD answered another SHA1 than the script's",
                format!("{}: expected {}, got {sha1}", script.path, script.sha1),
            ))));
        }
    }
    Ok(scripts.len())
}

/// Picks the scripts whose `SCRIPT EXISTS` answer is false.
fn pick_missing(
    scripts: Vec<&'static RegisteredScript>,
    reply: Value,
) -> Result<Vec<&'static RegisteredScript>, Error> {
    let exists = Vec::<bool>::from_redis_value(reply.extract_error()?)
        .map_err(|error| Error::Redis(error.into()))?;
    if exists.len() != scripts.len() {
        return Err(Error::Redis(RedisError::from((
            redis::ErrorKind::Client,
            "unexpected SCRIPT EXISTS reply",
            format!(
                "asked about {}, got {} answers",
                scripts.len(),
                exists.len()
            ),
        ))));
    }
    Ok(scripts
        .into_iter()
        .zip(exists)
        .filter_map(|(script, exists)| (!exists).then_some(script))
        .collect())
}

/// Sends `SCRIPT LOAD` for every registered script (each distinct source once) in one
/// pipeline, and returns how many were loaded.
///
/// Meant for a standalone server (or a `ConnectionManager` to one). On a cluster connection the
/// `redis` crate sends `SCRIPT LOAD` to every node and fails if any node does; use
/// `load_all_cluster` there (feature `cluster`), which reports per node.
///
/// ```no_run
/// # fn main() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let loaded = redis_script::registry::load_all(&mut client.get_connection()?)?;
/// println!("{loaded} scripts loaded");
/// # Ok(()) }
/// ```
pub fn load_all<C>(connection: &mut C) -> Result<usize, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let scripts = distinct();
    if scripts.is_empty() {
        return Ok(0);
    }
    let pipeline = load_pipeline(&scripts);
    let replies =
        connection.req_packed_commands(&pipeline.get_packed_pipeline(), 0, scripts.len())?;
    check_loaded(&scripts, replies)
}

/// The asynchronous [`load_all`].
///
/// ```no_run
/// # async fn run() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let mut connection = client.get_multiplexed_async_connection().await?;
/// redis_script::registry::load_all_async(&mut connection).await?;
/// # Ok(()) }
/// ```
pub async fn load_all_async<C>(connection: &mut C) -> Result<usize, Error>
where
    C: redis::aio::ConnectionLike,
{
    let scripts = distinct();
    if scripts.is_empty() {
        return Ok(0);
    }
    let pipeline = load_pipeline(&scripts);
    let replies = connection
        .req_packed_commands(&pipeline, 0, scripts.len())
        .await?;
    check_loaded(&scripts, replies)
}

/// The registered scripts the server does not have cached (`SCRIPT EXISTS`, one round trip),
/// each distinct source once.
///
/// On a cluster connection the `redis` crate asks only the primaries, and a script counts as
/// present only if all of them have it: a replica that lacks it (and would lack it when
/// promoted) goes unnoticed. Use `missing_cluster` there (feature `cluster`), which asks every
/// node, replicas included, and reports per node.
///
/// ```no_run
/// # fn main() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// for script in redis_script::registry::missing(&mut client.get_connection()?)? {
///     eprintln!("not loaded: {} ({})", script.name, script.path);
/// }
/// # Ok(()) }
/// ```
pub fn missing<C>(connection: &mut C) -> Result<Vec<&'static RegisteredScript>, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let scripts = distinct();
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    let reply = connection.req_command(&exists_command(&scripts))?;
    pick_missing(scripts, reply)
}

/// The asynchronous [`missing`].
///
/// ```no_run
/// # async fn run() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let mut connection = client.get_multiplexed_async_connection().await?;
/// let missing = redis_script::registry::missing_async(&mut connection).await?;
/// # Ok(()) }
/// ```
pub async fn missing_async<C>(connection: &mut C) -> Result<Vec<&'static RegisteredScript>, Error>
where
    C: redis::aio::ConnectionLike,
{
    let scripts = distinct();
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    let reply = connection
        .req_packed_command(&exists_command(&scripts))
        .await?;
    pick_missing(scripts, reply)
}

/// Which registered scripts one cluster node lacks; see [`missing_cluster`].
///
/// ```
/// use redis_script::registry::NodeMissing;
///
/// fn report(nodes: &[NodeMissing]) {
///     for node in nodes {
///         match &node.result {
///             Ok(missing) if missing.is_empty() => {}
///             Ok(missing) => eprintln!("{} lacks {} scripts", node.address, missing.len()),
///             Err(error) => eprintln!("{}: cannot tell ({error})", node.address),
///         }
///     }
/// }
/// # report(&[]);
/// ```
#[cfg(feature = "cluster")]
#[derive(Debug)]
pub struct NodeMissing {
    /// `host:port`, as the cluster announces the node (`CLUSTER NODES`).
    pub address: String,
    /// Whether the node was a primary (else a replica) when it was asked.
    pub primary: bool,
    /// The registered scripts the node does not have cached, in [`scripts()`] order (each
    /// distinct source once); or why the node could not be asked.
    pub result: Result<Vec<&'static RegisteredScript>, Error>,
}

#[cfg(feature = "cluster")]
impl NodeMissing {
    /// Whether the node has every registered script (`false` also when it could not be asked).
    ///
    /// ```
    /// let node = redis_script::registry::NodeMissing {
    ///     address: "127.0.0.1:7003".into(),
    ///     primary: false,
    ///     result: Ok(vec![]),
    /// };
    /// assert!(node.has_all());
    /// ```
    pub fn has_all(&self) -> bool {
        matches!(&self.result, Ok(missing) if missing.is_empty())
    }
}

/// The registered scripts each node of a cluster lacks, primaries and replicas (`SCRIPT EXISTS`
/// sent to each node that `CLUSTER NODES` lists, one at a time), as [`load_all_cluster`] loads
/// them. A node that is down is reported with its error and does not stop the others; the call
/// fails as a whole only when no node answers `CLUSTER NODES`.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// for node in redis_script::registry::missing_cluster(&mut connection)? {
///     if !node.has_all() {
///         eprintln!("{} (primary: {}): {:?}", node.address, node.primary, node.result);
///     }
/// }
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub fn missing_cluster(
    connection: &mut crate::cluster::ClusterConnection,
) -> Result<Vec<NodeMissing>, Error> {
    let scripts = distinct();
    let nodes = crate::cluster::nodes_sync(connection)?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let result = if scripts.is_empty() {
                Ok(Vec::new())
            } else {
                connection
                    .route_command(&exists_command(&scripts), node.routing())
                    .map_err(Error::Redis)
                    .and_then(|reply| pick_missing(scripts.clone(), reply))
            };
            NodeMissing {
                address: node.address(),
                primary: node.primary,
                result,
            }
        })
        .collect())
}

/// The asynchronous [`missing_cluster`]. The `redis` crate's asynchronous cluster connection
/// only sends to nodes it is connected to, so a node it has not discovered yet is reported with
/// an error.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let nodes = redis_script::registry::missing_cluster_async(&mut connection).await?;
/// assert!(nodes.iter().all(|node| node.has_all()));
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub async fn missing_cluster_async(
    connection: &mut crate::cluster::AsyncClusterConnection,
) -> Result<Vec<NodeMissing>, Error> {
    let scripts = distinct();
    let nodes = crate::cluster::nodes_async(connection).await?;
    let mut reports = Vec::with_capacity(nodes.len());
    for node in nodes {
        let result = if scripts.is_empty() {
            Ok(Vec::new())
        } else {
            match connection
                .route_command(exists_command(&scripts), node.routing())
                .await
            {
                Ok(reply) => pick_missing(scripts.clone(), reply),
                Err(error) => Err(Error::Redis(error)),
            }
        };
        reports.push(NodeMissing {
            address: node.address(),
            primary: node.primary,
            result,
        });
    }
    Ok(reports)
}

#[cfg(feature = "cluster")]
fn sources() -> Vec<crate::cluster::ScriptSource> {
    distinct()
        .into_iter()
        .map(|script| crate::cluster::ScriptSource {
            name: script.name,
            path: script.path,
            source: script.source,
            sha1: script.sha1,
        })
        .collect()
}

/// Loads every registered script on every node of a cluster, primaries and replicas, with
/// [`cluster::load_all`](crate::cluster::load_all): a node that is down is reported, and does
/// not fail the others.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// for node in redis_script::registry::load_all_cluster(&mut client.get_connection()?)? {
///     if let Err(error) = &node.result {
///         eprintln!("{}: {error}", node.address);
///     }
/// }
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub fn load_all_cluster(
    connection: &mut crate::cluster::ClusterConnection,
) -> Result<Vec<crate::cluster::NodeLoad>, Error> {
    crate::cluster::load_all(connection, &sources())
}

/// The asynchronous [`load_all_cluster`], with
/// [`cluster::load_all_async`](crate::cluster::load_all_async).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let nodes = redis_script::registry::load_all_cluster_async(&mut connection).await?;
/// assert!(nodes.iter().all(|node| node.is_loaded()));
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub async fn load_all_cluster_async(
    connection: &mut crate::cluster::AsyncClusterConnection,
) -> Result<Vec<crate::cluster::NodeLoad>, Error> {
    crate::cluster::load_all_async(connection, &sources()).await
}
