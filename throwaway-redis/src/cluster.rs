use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::thread;
use std::time::{Duration, Instant};

use redis::Value;
use redis::cluster::ClusterClient;

use crate::HarnessError;
use crate::process::{self, HOST, PortKind, ServerProcess, info_field};

const SLOT_RANGES: [(u16, u16); 3] = [(0, 5460), (5461, 10922), (10923, 16383)];
const PRIMARIES: usize = SLOT_RANGES.len();
const NODES: usize = 2 * PRIMARIES;
const LAST_SLOT: u16 = 16383;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Per-node options. A short node timeout makes failover fast; pinging replicas
/// every second makes their replication offset non-zero quickly, which Redis
/// 7.0 requires before listing them in CLUSTER SLOTS. `nodes.conf` is relative
/// to `--dir`, i.e. inside the node's own temporary directory.
const NODE_OPTIONS: [(&str, &str); 6] = [
    ("--cluster-enabled", "yes"),
    ("--cluster-config-file", "nodes.conf"),
    ("--cluster-node-timeout", "1000"),
    ("--repl-ping-replica-period", "1"),
    ("--repl-diskless-sync", "yes"),
    ("--repl-diskless-sync-delay", "0"),
];

/// A throwaway Redis Cluster: three primaries, each with one replica, all on
/// free loopback ports and killed when dropped.
///
/// Slots start out as 0-5460, 5461-10922 and 10923-16383 on the first three
/// nodes, replicated by the last three; after a failover, ask
/// [`RedisCluster::primaries`] or [`RedisCluster::node_for_slot`] for the
/// current layout.
///
/// # Example
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cluster = throwaway_redis::RedisCluster::start()?;
/// let mut con = cluster.client()?.get_connection()?;
/// redis::cmd("SET").arg("user:1").arg("ada").exec(&mut con)?;
/// let name: String = redis::cmd("GET").arg("user:1").query(&mut con)?;
/// assert_eq!(name, "ada");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<ClusterNode>,
    /// Replicas of each node killed through [`RedisCluster::kill`], recorded
    /// just before the kill (afterwards no live node reports them reliably).
    replicas_of_killed: HashMap<u16, Vec<u16>>,
}

/// One `redis-server` of a [`RedisCluster`].
///
/// # Example
///
/// ```no_run
/// let cluster = throwaway_redis::RedisCluster::start().unwrap();
/// for node in cluster.nodes() {
///     println!("{} {} alive={}", node.node_id(), node.url(), node.is_alive());
/// }
/// ```
#[derive(Debug)]
pub struct ClusterNode {
    process: ServerProcess,
    node_id: String,
}

impl RedisCluster {
    /// Starts six nodes, forms the cluster and waits until it is fully ready:
    /// every node reports `cluster_state:ok`, every node's CLUSTER SLOTS lists
    /// all six nodes, and every replica's link to its primary is up. Gives up
    /// after 30 s, saying which condition was not met on which node.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().expect("redis cluster");
    /// assert_eq!(cluster.nodes().len(), 6);
    /// ```
    pub fn start() -> Result<RedisCluster, HarnessError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let cluster = RedisCluster {
            nodes: start_nodes()?,
            replicas_of_killed: HashMap::new(),
        };
        cluster.form(deadline)?;
        Ok(cluster)
    }

    /// Meets all nodes, assigns slots and attaches replicas, then waits for
    /// the cluster to be ready.
    fn form(&self, deadline: Instant) -> Result<(), HarnessError> {
        let (primaries, replicas) = self.nodes.split_at(PRIMARIES);
        let first_port = self.nodes[0].port().to_string();
        for node in &self.nodes[1..] {
            node.run(&["CLUSTER", "MEET", HOST, &first_port])?;
        }
        for (node, (start, end)) in primaries.iter().zip(SLOT_RANGES) {
            let (start, end) = (start.to_string(), end.to_string());
            node.run(&["CLUSTER", "ADDSLOTSRANGE", &start, &end])?;
        }
        // CLUSTER REPLICATE fails with "Unknown node" until the replica knows the primary.
        let what = format!("the six nodes did not all meet within {STARTUP_TIMEOUT:?}");
        poll(deadline, &what, || {
            self.ensure_all_alive()?;
            Ok(self.check_all_known())
        })?;
        for (replica, primary) in replicas.iter().zip(primaries) {
            replica.run(&["CLUSTER", "REPLICATE", primary.node_id()])?;
        }
        let what = format!("the cluster was not ready within {STARTUP_TIMEOUT:?}");
        poll(deadline, &what, || {
            self.ensure_all_alive()?;
            Ok(self.check_stable())
        })
    }

    fn ensure_all_alive(&self) -> Result<(), HarnessError> {
        match self.nodes.iter().find(|node| !node.is_alive()) {
            None => Ok(()),
            Some(node) => Err(HarnessError::new(format!(
                "cluster node {} exited during startup.\n{}",
                node.port(),
                node.process.log_tail()
            ))),
        }
    }

    fn check_all_known(&self) -> Result<(), String> {
        for node in &self.nodes {
            let known: String = node.query(&["CLUSTER", "NODES"])?;
            let missing: Vec<u16> = (self.nodes.iter())
                .filter(|other| !known.contains(other.node_id()))
                .map(ClusterNode::port)
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "node {} does not know nodes {missing:?} yet (CLUSTER NODES)",
                    node.port()
                ));
            }
        }
        Ok(())
    }

    /// `Ok` if every live node reports `cluster_state:ok`, lists exactly the
    /// live nodes in CLUSTER SLOTS, agrees with the others on which primary
    /// serves which slots, and (for replicas) has its primary link up.
    fn check_stable(&self) -> Result<(), String> {
        let live = self.live_nodes();
        if live.is_empty() {
            return Err("no node is running".into());
        }
        let expected: BTreeSet<u16> = live.iter().map(|node| node.port()).collect();
        let mut agreed: Option<(u16, Layout)> = None;
        for node in live {
            let view = node.view()?;
            let port = node.port();
            if view.cluster_state != "ok" {
                return Err(format!(
                    "node {port} reports cluster_state:{}",
                    view.cluster_state
                ));
            }
            if view.role == "slave" && view.master_link_status != "up" {
                return Err(format!(
                    "replica {port} reports master_link_status:{}",
                    view.master_link_status
                ));
            }
            let listed = view.listed_ports();
            if listed != expected {
                return Err(format!(
                    "node {port}'s CLUSTER SLOTS lists ports {listed:?} instead of the live nodes \
                     {expected:?} (Redis 7.0 lists a replica only once its replication offset is non-zero)"
                ));
            }
            let layout = view.primary_layout();
            match &agreed {
                Some((other, agreed)) if *agreed != layout => {
                    return Err(format!(
                        "nodes {other} and {port} disagree about which primary serves which slots"
                    ));
                }
                Some(_) => {}
                None => agreed = Some((port, layout)),
            }
        }
        Ok(())
    }

    /// All six nodes, dead or alive, in a fixed order: the initial primaries
    /// (slots 0-5460, 5461-10922, 10923-16383), then their replicas.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let ports: Vec<u16> = cluster.nodes().iter().map(|n| n.port()).collect();
    /// # drop(ports);
    /// ```
    pub fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    fn live_nodes(&self) -> Vec<&ClusterNode> {
        self.nodes.iter().filter(|node| node.is_alive()).collect()
    }

    fn node(&self, port: u16) -> Option<&ClusterNode> {
        self.nodes.iter().find(|node| node.port() == port)
    }

    /// The live nodes that are primaries right now (asked with INFO
    /// replication, so this reflects failovers). Nodes that do not answer
    /// are left out.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// assert_eq!(cluster.primaries().len(), 3);
    /// ```
    pub fn primaries(&self) -> Vec<&ClusterNode> {
        self.nodes_with_role("master")
    }

    /// The live nodes that are replicas right now (see [`RedisCluster::primaries`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// assert_eq!(cluster.replicas().len(), 3);
    /// ```
    pub fn replicas(&self) -> Vec<&ClusterNode> {
        self.nodes_with_role("slave")
    }

    fn nodes_with_role(&self, role: &str) -> Vec<&ClusterNode> {
        let has_role = |node: &&ClusterNode| node.replication().is_ok_and(|r| r.role == role);
        self.live_nodes().into_iter().filter(has_role).collect()
    }

    /// The primary currently serving `slot` (0..=16383), according to
    /// CLUSTER SLOTS on the first live node that answers.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let node = cluster.node_for_slot(0).unwrap();
    /// assert_eq!(node.port(), cluster.nodes()[0].port());
    /// ```
    pub fn node_for_slot(&self, slot: u16) -> Result<&ClusterNode, HarnessError> {
        if slot > LAST_SLOT {
            return Err(HarnessError::new(format!(
                "slot {slot} does not exist (slots are 0..={LAST_SLOT})"
            )));
        }
        let mut why = String::from("no cluster node is running");
        for node in self.live_nodes() {
            let ranges = match node.cluster_slots() {
                Ok(ranges) => ranges,
                Err(err) => {
                    why = err;
                    continue;
                }
            };
            let primary = (ranges.iter())
                .find(|range| (range.start..=range.end).contains(&slot))
                .map(|range| range.primary);
            return match primary.and_then(|port| self.node(port)) {
                Some(primary) => Ok(primary),
                None => Err(HarnessError::new(format!(
                    "node {} reports no known primary for slot {slot} (primary port {primary:?}); \
                     is the cluster still failing over? Try wait_until_stable first",
                    node.port()
                ))),
            };
        }
        Err(HarnessError::new(format!(
            "cannot find the node serving slot {slot}: {why}"
        )))
    }

    /// The URLs of all six nodes (including dead ones).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    /// # drop(client);
    /// ```
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(ClusterNode::url).collect()
    }

    /// A cluster client seeded with all six nodes.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let mut con = cluster.client().unwrap().get_connection().unwrap();
    /// redis::cmd("SET").arg("k").arg("v").exec(&mut con).unwrap();
    /// ```
    pub fn client(&self) -> Result<ClusterClient, HarnessError> {
        ClusterClient::new(self.urls())
            .map_err(|e| HarnessError::redis("cannot create a ClusterClient for the cluster", e))
    }

    /// Kills the node on `port` with SIGKILL and waits for it to exit. If it
    /// is a primary, its replica will take over; see
    /// [`RedisCluster::wait_for_failover`].
    ///
    /// # Panics
    ///
    /// If no node of this cluster listens on `port`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let port = cluster.node_for_slot(0).unwrap().port();
    /// cluster.kill(port);
    /// ```
    pub fn kill(&mut self, port: u16) {
        let Some(node) = self.node(port) else {
            let ports: Vec<u16> = self.nodes.iter().map(ClusterNode::port).collect();
            panic!(
                "RedisCluster::kill({port}): no node listens on that port; the nodes are {ports:?}"
            );
        };
        // Killing again must not overwrite what was recorded the first time.
        if node.is_alive() {
            let replicas = self.replicas_of(port);
            node.process.kill();
            self.replicas_of_killed.insert(port, replicas);
        }
    }

    /// Live nodes that replicate from `port` (a replica keeps reporting its
    /// primary after the primary died, until it is promoted).
    fn replicas_of(&self, port: u16) -> Vec<u16> {
        let replicates = |node: &&ClusterNode| {
            node.replication()
                .is_ok_and(|r| r.role == "slave" && r.master_port == Some(port))
        };
        self.live_nodes()
            .into_iter()
            .filter(replicates)
            .map(ClusterNode::port)
            .collect()
    }

    /// After [`RedisCluster::kill`] on a primary, waits until one of its
    /// replicas has been promoted, every live node reports
    /// `cluster_state:ok`, and no live node's CLUSTER SLOTS lists the dead
    /// node any more. Returns the port of the new primary.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let mut cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let old = cluster.node_for_slot(0).unwrap().port();
    /// cluster.kill(old);
    /// let new = cluster.wait_for_failover(old, Duration::from_secs(20)).unwrap();
    /// assert_eq!(cluster.node_for_slot(0).unwrap().port(), new);
    /// ```
    pub fn wait_for_failover(
        &self,
        dead_port: u16,
        timeout: Duration,
    ) -> Result<u16, HarnessError> {
        let dead = self.node(dead_port).ok_or_else(|| {
            HarnessError::new(format!(
                "no node of this cluster listens on port {dead_port}"
            ))
        })?;
        if dead.is_alive() {
            return Err(HarnessError::new(format!(
                "node {dead_port} is still running; kill it first with RedisCluster::kill"
            )));
        }
        let candidates = match self.replicas_of_killed.get(&dead_port) {
            Some(replicas) => replicas.clone(),
            None => self.replicas_of(dead_port),
        };
        if candidates.is_empty() {
            return Err(HarnessError::new(format!(
                "node {dead_port} had no replica when it was killed, so nobody can take over \
                 its slots (was it a replica, or a primary whose replica was already dead?)"
            )));
        }
        let what = format!("no replica of port {dead_port} took over within {timeout:?}");
        poll(Instant::now() + timeout, &what, || {
            if !candidates
                .iter()
                .filter_map(|&port| self.node(port))
                .any(ClusterNode::is_alive)
            {
                return Err(HarnessError::new(format!(
                    "the replicas {candidates:?} of node {dead_port} are dead too; no failover is possible"
                )));
            }
            Ok(self.check_failover(dead_port, &candidates))
        })
    }

    fn check_failover(&self, dead_port: u16, candidates: &[u16]) -> Result<u16, String> {
        let promoted = (candidates.iter())
            .filter_map(|&port| self.node(port))
            .find(|node| node.is_alive() && node.replication().is_ok_and(|r| r.role == "master"))
            .ok_or_else(|| {
                format!("none of the replicas {candidates:?} of {dead_port} is a primary yet")
            })?;
        for node in self.live_nodes() {
            let view = node.view()?;
            if view.cluster_state != "ok" {
                return Err(format!(
                    "node {} reports cluster_state:{}",
                    node.port(),
                    view.cluster_state
                ));
            }
            if view.listed_ports().contains(&dead_port) {
                return Err(format!(
                    "node {}'s CLUSTER SLOTS still lists the dead node {dead_port}",
                    node.port()
                ));
            }
        }
        Ok(promoted.port())
    }

    /// Waits until every live node reports `cluster_state:ok`, lists exactly
    /// the live nodes in CLUSTER SLOTS, agrees with the others on the slot
    /// layout, and (for replicas) has its link to its primary up.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// cluster.wait_until_stable(Duration::from_secs(10)).unwrap();
    /// ```
    pub fn wait_until_stable(&self, timeout: Duration) -> Result<(), HarnessError> {
        let what = format!("the cluster did not become stable within {timeout:?}");
        poll(Instant::now() + timeout, &what, || Ok(self.check_stable()))
    }
}

/// Starts the six processes in parallel; each start waits for its server to answer PING.
fn start_nodes() -> Result<Vec<ClusterNode>, HarnessError> {
    let options: Vec<OsString> = (NODE_OPTIONS.iter())
        .flat_map(|&(name, value)| [name, value])
        .map(OsString::from)
        .collect();
    let started: Vec<Result<ClusterNode, HarnessError>> = thread::scope(|scope| {
        let starts: Vec<_> = (0..NODES)
            .map(|_| scope.spawn(|| ClusterNode::start(&options)))
            .collect();
        let panicked = || {
            Err(HarnessError::new(
                "a thread starting a cluster node panicked",
            ))
        };
        starts
            .into_iter()
            .map(|start| start.join().unwrap_or_else(|_| panicked()))
            .collect()
    });
    // On error, the nodes that did start are dropped, i.e. killed.
    started.into_iter().collect()
}

/// Calls `check` every 50 ms until it returns `Ok(Ok(value))`. `Ok(Err(reason))`
/// means "not yet"; the last reason is reported if `deadline` passes.
/// `Err` gives up at once.
fn poll<T>(
    deadline: Instant,
    what: &str,
    mut check: impl FnMut() -> Result<Result<T, String>, HarnessError>,
) -> Result<T, HarnessError> {
    loop {
        match check()? {
            Ok(value) => return Ok(value),
            Err(reason) if Instant::now() >= deadline => {
                return Err(HarnessError::new(format!("{what}: {reason}")));
            }
            Err(_) => thread::sleep(POLL_INTERVAL),
        }
    }
}

impl ClusterNode {
    fn start(options: &[OsString]) -> Result<ClusterNode, HarnessError> {
        let process = ServerProcess::start(PortKind::Cluster, options)?;
        let node_id: String = process::admin_connection(process.port())
            .and_then(|mut con| redis::cmd("CLUSTER").arg("MYID").query(&mut con))
            .map_err(|e| {
                HarnessError::redis(format!("CLUSTER MYID on port {}", process.port()), e)
            })?;
        Ok(ClusterNode { process, node_id })
    }

    /// The node's TCP port on 127.0.0.1 (its cluster bus is on port + 10000).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// println!("{}", cluster.nodes()[0].port());
    /// ```
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The node's URL, `redis://127.0.0.1:PORT/`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// println!("{}", cluster.nodes()[0].url());
    /// ```
    pub fn url(&self) -> String {
        format!("redis://{HOST}:{}/", self.port())
    }

    /// A (non-cluster) client for just this node, e.g. for ROLE or CLUSTER INFO.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let client = cluster.nodes()[0].client();
    /// # drop(client);
    /// ```
    pub fn client(&self) -> redis::Client {
        process::client(self.port())
    }

    /// A new (non-cluster) connection to just this node.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let mut con = cluster.nodes()[0].connection().unwrap();
    /// let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut con).unwrap();
    /// assert!(info.contains("cluster_state:ok"));
    /// ```
    pub fn connection(&self) -> Result<redis::Connection, HarnessError> {
        self.client().get_connection().map_err(|e| {
            HarnessError::redis(format!("cannot connect to cluster node {}", self.url()), e)
        })
    }

    /// The node's 40-character cluster node id (CLUSTER MYID).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// assert_eq!(cluster.nodes()[0].node_id().len(), 40);
    /// ```
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether the node's process is still running (false after
    /// [`RedisCluster::kill`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let port = cluster.nodes()[3].port();
    /// cluster.kill(port);
    /// assert!(!cluster.nodes()[3].is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.process.is_alive()
    }

    /// Freezes the node with SIGSTOP, as a long pause (a hung VM, a stalled process) would: its
    /// kernel still accepts connections and buffers what clients send, but the server answers
    /// nothing, and after `cluster-node-timeout` (1 s here) its replica takes over. The node
    /// runs again (SIGCONT) when the returned guard is dropped or
    /// [`resumed`](Paused::resume), so a test that fails never leaves a frozen server behind.
    ///
    /// # Panics
    ///
    /// If the node is not running.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// let node = cluster.primaries()[0];
    /// let paused = node.pause();
    /// // ... the node answers nothing here ...
    /// paused.resume();
    /// assert!(node.connection().is_ok());
    /// ```
    pub fn pause(&self) -> Paused<'_> {
        assert!(
            self.process.signal(libc::SIGSTOP),
            "ClusterNode::pause: node {} is not running",
            self.port()
        );
        Paused { node: self }
    }

    /// Runs a formation command, failing the startup if it is refused.
    fn run(&self, args: &[&str]) -> Result<(), HarnessError> {
        self.query::<Value>(args)
            .map(drop)
            .map_err(HarnessError::new)
    }

    /// Runs one command on a fresh connection with timeouts.
    fn query<T: redis::FromRedisValue>(&self, args: &[&str]) -> Result<T, String> {
        process::admin_connection(self.port())
            .and_then(|mut con| redis::cmd(args[0]).arg(&args[1..]).query(&mut con))
            .map_err(|e| format!("node {}: `{}` failed: {e}", self.port(), args.join(" ")))
    }

    fn replication(&self) -> Result<Replication, String> {
        let info: String = self.query(&["INFO", "replication"])?;
        let field = |key| info_field(&info, key).unwrap_or_default().to_owned();
        Ok(Replication {
            role: field("role"),
            master_port: info_field(&info, "master_port").and_then(|port| port.parse().ok()),
            master_link_status: field("master_link_status"),
        })
    }

    fn cluster_slots(&self) -> Result<Vec<SlotRange>, String> {
        let reply: Value = self.query(&["CLUSTER", "SLOTS"])?;
        parse_cluster_slots(&reply).ok_or_else(|| {
            format!(
                "node {}: unexpected CLUSTER SLOTS reply {reply:?}",
                self.port()
            )
        })
    }

    fn view(&self) -> Result<NodeView, String> {
        let info: String = self.query(&["CLUSTER", "INFO"])?;
        let replication = self.replication()?;
        Ok(NodeView {
            cluster_state: info_field(&info, "cluster_state").unwrap_or("?").to_owned(),
            role: replication.role,
            master_link_status: replication.master_link_status,
            slots: self.cluster_slots()?,
        })
    }
}

/// The interesting part of INFO replication.
struct Replication {
    /// "master" or "slave".
    role: String,
    master_port: Option<u16>,
    master_link_status: String,
}

/// What one node currently reports about itself and the cluster.
struct NodeView {
    cluster_state: String,
    role: String,
    master_link_status: String,
    slots: Vec<SlotRange>,
}

impl NodeView {
    /// Every node mentioned in CLUSTER SLOTS, primary or replica.
    fn listed_ports(&self) -> BTreeSet<u16> {
        (self.slots.iter())
            .flat_map(|range| std::iter::once(range.primary).chain(range.replicas.iter().copied()))
            .collect()
    }

    fn primary_layout(&self) -> Layout {
        let mut layout: Vec<_> = self
            .slots
            .iter()
            .map(|r| (r.start, r.end, r.primary))
            .collect();
        layout.sort_unstable();
        layout
    }
}

/// Which primary serves which slots: `(first slot, last slot, primary port)`, sorted.
type Layout = Vec<(u16, u16, u16)>;

/// One entry of CLUSTER SLOTS.
#[derive(Debug, PartialEq)]
struct SlotRange {
    start: u16,
    end: u16,
    primary: u16,
    replicas: Vec<u16>,
}

/// Parses `[[start, end, [ip, port, id, ..], [ip, port, id, ..]..]..]`.
fn parse_cluster_slots(reply: &Value) -> Option<Vec<SlotRange>> {
    let Value::Array(entries) = reply else {
        return None;
    };
    let port = |node: &Value| match node {
        Value::Array(fields) => match fields.get(1) {
            Some(Value::Int(port)) => u16::try_from(*port).ok(),
            _ => None,
        },
        _ => None,
    };
    (entries.iter())
        .map(|entry| {
            let Value::Array(items) = entry else {
                return None;
            };
            let [Value::Int(start), Value::Int(end), primary, replicas @ ..] = items.as_slice()
            else {
                return None;
            };
            Some(SlotRange {
                start: u16::try_from(*start).ok()?,
                end: u16::try_from(*end).ok()?,
                primary: port(primary)?,
                replicas: replicas.iter().map(port).collect::<Option<_>>()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: i64) -> Value {
        Value::Array(vec![
            Value::BulkString(b"127.0.0.1".to_vec()),
            Value::Int(port),
            Value::BulkString(b"0123abcd".to_vec()),
            Value::Array(vec![]),
        ])
    }

    #[test]
    fn parses_cluster_slots() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node(30001),
                node(30004),
            ]),
            Value::Array(vec![Value::Int(5461), Value::Int(10922), node(30002)]),
        ]);
        let expected = vec![
            SlotRange {
                start: 0,
                end: 5460,
                primary: 30001,
                replicas: vec![30004],
            },
            SlotRange {
                start: 5461,
                end: 10922,
                primary: 30002,
                replicas: vec![],
            },
        ];
        assert_eq!(parse_cluster_slots(&reply), Some(expected));
        assert_eq!(parse_cluster_slots(&Value::Nil), None);
        let no_nodes = Value::Array(vec![Value::Array(vec![Value::Int(0), Value::Int(1)])]);
        assert_eq!(parse_cluster_slots(&no_nodes), None);
    }
}

/// A cluster node frozen by [`ClusterNode::pause`]; it runs again when this is dropped.
#[must_use = "the node runs again as soon as this guard is dropped"]
#[derive(Debug)]
pub struct Paused<'a> {
    node: &'a ClusterNode,
}

impl Paused<'_> {
    /// Lets the node run again (SIGCONT) now.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cluster = throwaway_redis::RedisCluster::start().unwrap();
    /// cluster.primaries()[0].pause().resume();
    /// ```
    pub fn resume(self) {}
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        // A node killed meanwhile needs nothing.
        self.node.process.signal(libc::SIGCONT);
    }
}
