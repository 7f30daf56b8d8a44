//! Redis Cluster: invoking [`Function`]s with explicit routing.
//!
//! [`Function::invoke`] and [`Function::invoke_async`] already work on the `redis` crate's
//! cluster connections: the crate routes `FCALL` by its first key, to the node that owns every
//! key of the call (the slot guard checks that they share a slot). A function **without keys**
//! is what they cannot route: the crate sends it to a random node, which may be a replica,
//! where a function that writes fails. [`invoke`] and [`invoke_async`] route explicitly, as
//! [`cluster::invoke`](crate::cluster::invoke) does for scripts: by the first key (to the
//! primary, or to any node of the shard for a `no-writes` function when the client reads from
//! replicas), and without keys to a random primary (any node for a `no-writes` one).
//!
//! When the node has no such function, the library is loaded on every primary (replicas get it
//! by replication) and the call is sent once more, to the primary; the function runs at most
//! once. Libraries loaded on the primaries survive a failover: the promoted replica already has
//! them, so the first call after a failover needs no load. To load them up front and find stale
//! ones, see [`libraries::load_libraries_cluster`](crate::libraries::load_libraries_cluster).
//!
//! As with scripts, the synchronous [`invoke`] reloads the connection's slot map after an I/O
//! error, so that the next call reaches the promoted replica of a dead primary, and returns the
//! error without sending the call again (see [Failover](crate::cluster#failover)).

use std::future::Future;

use redis::cluster_routing::RoutingInfo;

use crate::cluster::{AsyncClusterConnection, ClusterConnection, recovering, routing};
use crate::fcall::{Details, exists_as_ok, is_function_missing};
use crate::invoke::server_error_as_err;
use crate::{Error, Function};

/// Calls a function on a synchronous cluster connection, routed explicitly: by its first key,
/// or, for a function without keys, to a random primary (any node for a `no-writes` one).
///
/// ```no_run
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// let transfer = Transfer { from: "{alice}:eur", to: "{alice}:usd", amount: 5 };
/// let balance = redis_script::cluster_functions::invoke(&transfer, &mut connection)?;
/// # Ok(()) }
/// ```
pub fn invoke<F: Function + ?Sized>(
    function: &F,
    connection: &mut ClusterConnection,
) -> Result<F::Output, Error> {
    let fcall = function.fcall_command();
    let details = Details::of::<F>();
    details.check_slots(&fcall)?;
    let first = RoutingInfo::SingleNode(routing(&fcall, details.read_only));
    let reply = recovering(connection, &fcall, |connection| {
        server_error_as_err(connection.route_command(&fcall, first.clone()))
    });
    if !matches!(&reply, Err(error) if is_function_missing(error)) {
        return details.convert(reply);
    }
    // The crate sends FUNCTION LOAD to every primary.
    let load = server_error_as_err(redis::ConnectionLike::req_command(
        connection,
        &details.load_command(),
    ))
    .or_else(exists_as_ok);
    // To the primary: a replica may not have received the library yet.
    let again = RoutingInfo::SingleNode(routing(&fcall, false));
    let reply = recovering(connection, &fcall, |connection| {
        server_error_as_err(connection.route_command(&fcall, again.clone()))
    });
    details.convert_after_load(load, reply)
}

/// The asynchronous [`invoke`]. The command is built before the future is returned, so the
/// future borrows only the connection.
///
/// ```no_run
/// # include!("../doc/transfer_function.rs");
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let transfer = Transfer { from: "{alice}:eur", to: "{alice}:usd", amount: 5 };
/// let balance = redis_script::cluster_functions::invoke_async(&transfer, &mut connection).await?;
/// # Ok(()) }
/// # fn main() {}
/// ```
pub fn invoke_async<'c, F: Function + ?Sized>(
    function: &F,
    connection: &'c mut AsyncClusterConnection,
) -> impl Future<Output = Result<F::Output, Error>> + Send + use<'c, F> {
    let fcall = function.fcall_command();
    let details = Details::of::<F>();
    async move {
        details.check_slots(&fcall)?;
        let first = RoutingInfo::SingleNode(routing(&fcall, details.read_only));
        let reply = server_error_as_err(connection.route_command(fcall.clone(), first).await);
        if !matches!(&reply, Err(error) if is_function_missing(error)) {
            return details.convert(reply);
        }
        let load = server_error_as_err(
            redis::aio::ConnectionLike::req_packed_command(connection, &details.load_command())
                .await,
        )
        .or_else(exists_as_ok);
        let again = RoutingInfo::SingleNode(routing(&fcall, false));
        let reply = server_error_as_err(connection.route_command(fcall, again).await);
        details.convert_after_load(load, reply)
    }
}
