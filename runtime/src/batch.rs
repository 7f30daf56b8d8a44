//! Many invocations across a Redis Cluster: grouped by slot and node, pipelined, all nodes at
//! once. This is the way to pipeline scripts and functions on a cluster: the `redis` crate's cluster
//! pipelines send the whole pipeline again on `MOVED` or `ASK` (see the end of this page).
//!
//! [`ClusterBatch`] takes invocations of any scripts, finds each one's primary from the hash
//! slot of its first key (`CLUSTER SLOTS`, kept in [`ClusterNodes`]), gathers the invocations of
//! each slot into one group, sends each primary its groups as pipelines (a slot of a few
//! invocations in waves, one invocation per wave), runs all primaries concurrently, and returns
//! the replies in the order added.
//!
//! # Guarantees
//!
//! - **`EVALSHA`, recovered from `NOSCRIPT`.** Invocations go out as `EVALSHA`: only the SHA1
//!   per invocation. Each node's pipelines of a round start with one `SCRIPT LOAD` per distinct
//!   script of its share (a 25 KB source goes to each primary once per batch, not once per
//!   invocation). A `SCRIPT FLUSH` can still land between that load and a group, so:
//!   - a group sent as one transaction (below) runs inside one `EXEC`, and no other client's
//!     command (a flush included) runs in the middle of an `EXEC`: a script is present for the
//!     whole group or missing for the whole group. If every invocation of the group was answered `NOSCRIPT`,
//!     none of them ran, and the group is sent again whole, in order, in the next round, after a
//!     new `SCRIPT LOAD`;
//!   - a group mixing scripts of which one is missing and another present (another client
//!     reloaded one between the load and the `EXEC`, or a server evicted one) ran in part: its
//!     trailing run of `NOSCRIPT`s (nothing of the slot ran after them) is sent again, and an
//!     invocation answered `NOSCRIPT` before one that ran is reported as
//!     [`Error::NotRun`], never sent again, since that would reorder it
//!     within its slot (the rule of the [pipeline module](crate::pipeline));
//!   - a single invocation answered `NOSCRIPT` did not run and is sent again; in a slot sent
//!     in waves, it and the slot's invocations after it (not sent yet) go in the next round;
//!   - an invocation whose script failed to load on the node (`OOM`, a source the server cannot
//!     compile) keeps the load's error and is reported as not run.
//!
//!   A group answered `NOSCRIPT` three times (a flush storm) goes as `EVAL` the next time, and in
//!   the last round of [`Retry`] every group that was answered `NOSCRIPT` before does: `EVAL`
//!   cannot answer `NOSCRIPT`. A `NOSCRIPT` round does not pause and does not fetch
//!   `CLUSTER SLOTS` again: the node is right, only its cache was emptied.
//! - **Order per slot.** The invocations of one slot run in the order added, also when a node
//!   refuses some of them and they are sent again. A slot's invocations go one of three ways:
//!   - **alone**: one invocation, sent as is;
//!   - **in waves**, a slot of 2 to 4 invocations (most slots of a batch spread over many
//!     keys) whose scripts cannot reply an error worded by themselves (below): each round of a node's share is sent as waves of pipelines; the first wave holds
//!     the first invocation of each such slot, wave *k* the *k*-th, each as a plain command,
//!     and an invocation is put in a wave only once the reply of the slot's invocation before
//!     it came back and says it ran (any reply but a refusal or `NOSCRIPT`, a script's own
//!     error included). A refused invocation (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, ...,
//!     `NOSCRIPT`, see below) did not run, and nothing after it in its slot was sent, so it
//!     and the rest of its slot go again together, in order, in the next round; the rest keeps
//!     an error that says it was not sent if the rounds run out. So at any time at most one
//!     invocation of such a slot is in flight, and it goes out only after everything before
//!     it ran. After an `ASK`, the rest of the slot goes again as one transaction to the
//!     slot's owner (which answers `ASK` for each invocation whose keys have left, so the
//!     transaction goes on to the target only if all of them have; one invocation's keys
//!     having left says nothing of the next one's);
//!   - **as one transaction**, a slot of more invocations, or of a script that may word an
//!     error reply itself: wrapped in `MULTI` ... `EXEC`
//!     inside the node's pipeline. Redis checks the slot of each command as it queues it, so
//!     a refused invocation is answered at once instead of `QUEUED`, and `EXEC` then runs
//!     nothing (`EXECABORT`); a check that fails at `EXEC` itself (the keys of the queued
//!     commands split by a migration) discards the transaction as well. Such a group
//!     therefore runs whole or not at all, and is sent again whole, in order (with `ASKING`
//!     before `MULTI` when a node answered `ASK`: Redis keeps that flag for the whole
//!     transaction).
//!
//!   Waves cost a round trip per wave but no `MULTI`, `EXEC` or `QUEUED`: over 7,500 slots a
//!   batch of 10,000 one-key invocations has about 1,900 slots of two or more, which as
//!   transactions made the server's work about 15 % larger; a slot of many invocations would
//!   take as many waves, so from 5 on one transaction is cheaper. Invocations of different
//!   slots have no order between them, nor have invocations of scripts without keys (spread
//!   over the primaries one by one).
//!
//!   What this costs: while a slot migrates, its invocations whose keys are partly on each
//!   side cannot run on either node (the source answers `ASK` or `TRYAGAIN`, the target
//!   `TRYAGAIN`), so such an invocation, and everything after it in its slot (and all of a
//!   transaction's slot), waits, round after round, until the migration completes, or is
//!   reported as not run when the rounds are used up; a plain pipeline would have run the
//!   rest, out of order. A transaction runs whole, so no other client's command runs on that
//!   node between its invocations (waves promise nothing of the kind).
//! - **Exactly once.** An invocation is sent again only when the node certainly did not run it
//!   (`NOSCRIPT`, above, or a refusal), or when it was not sent at all (the rest of a slot sent
//!   in waves, held back by a refusal):
//!   an error answered instead of `QUEUED` (then nothing of its group ran; the group is sent
//!   again if every such error is a redirect or refusal as listed below, otherwise nothing is
//!   sent again and each invocation of the group reports its own error or the `EXECABORT`); a
//!   redirect or refusal answered to `EXEC`; a single invocation answered with a redirect or
//!   refusal in the exact form Redis 7 and 8 and Valkey send: `MOVED <slot> <host:port>` or
//!   `ASK <slot> <host:port>` naming the invocation's own slot, `TRYAGAIN Multiple keys request
//!   during rehashing of slot`, `CLUSTERDOWN The cluster is down` (or `... Hash slot not
//!   served`, `... The cluster is down and only accepts read commands`), `MASTERDOWN Link with
//!   MASTER is down ...`, `LOADING Redis is loading the dataset in memory` (Valkey: `LOADING
//!   Valkey is ...`), `READONLY You can't write against a read only replica.` (a primary
//!   demoted by a failover); and an invocation
//!   that was not sent at all (no connection to its node, or an earlier pipeline to that node
//!   failed, see below). A script's own reply is never taken for a refusal when it differs from
//!   these forms, e.g. `redis.error_reply('TRYAGAIN later')`, a `MOVED` naming another slot, or
//!   an error raised by a `redis.call` inside the script, to which Redis appends
//!   ` script: <sha1>, on @user_script:<line>.`; inside a group a script's reply comes in
//!   `EXEC`'s reply and is never mistaken at all. A slot goes in waves only if none of its
//!   scripts can word an error reply itself: Redis makes a script's reply an error only from a
//!   returned table with an `err` field, and the derive checks at compile time that the source
//!   has nothing that could build one (`Script::MAY_REPLY_OWN_ERROR`, from
//!   `redis_script_analysis::may_reply_own_error`: no identifier containing `err`, `pcall`,
//!   `rawset`, `metatable`, `decode`, `unpack`, `load`, `fenv`, `dofile` or `require`, no
//!   `_G`, no `[` but in `KEYS[` and `ARGV[`; errors it raises get Redis's ` script: ...`
//!   suffix);
//!   any other script keeps its slots of two or more in transactions. What is left: an
//!   invocation sent alone whose script returns, word for word, one of the server's own errors
//!   above is taken as refused and sent again.
//! - **Rounds.** A [`Retry`] bounds the rounds (each invocation is sent at most
//!   [`Retry::rounds`] times; [`MAX_ROUNDS`] by default) and the pauses between them: a round
//!   that only follows `MOVED`/`ASK` starts at once, one that follows a refusal which takes
//!   time to clear (a migration's `TRYAGAIN`, a failover's `CLUSTERDOWN`, `LOADING`, no
//!   connection) first waits [`Retry::first_pause`], doubled each time, at most
//!   [`Retry::max_pause`]: by default 20 ms, 40 ms, ... 1 s, about 2.3 s in all. `CLUSTER
//!   SLOTS` is fetched again before each round. What still did not run keeps its last error,
//!   which says so.
//!
//! What nobody can promise: if a connection breaks while a pipeline is in flight, or its
//! replies do not come within the response timeout, some, all or none of it may have run (a
//! transaction whole or not at all), and what was sent may still run when the node answers.
//! Those invocations get an I/O error ([`Error::is_io_error`]) whose text says they may have
//! run, are [`Outcome::Unknown`] in the replies (all those of the failed pipeline: the `redis`
//! crate drops a pipeline's replies when a later read fails), and are **not** sent again; nor, in that batch, is the rest of a slot sent in waves
//! whose invocation was in flight (its error, kind [`ErrorKind::ClusterConnectionNotFound`],
//! says it was not sent because an earlier invocation of its slot may have run: it must not
//! run before that one). That node's later pipelines of the round are not sent: their
//! invocations are sent again in the next round, and if they never get through, they are
//! [`Outcome::NotRun`], listed by [`Replies::not_run`], and their error is [`Error::NotRun`]
//! (its source, of kind [`ErrorKind::ClusterConnectionNotFound`], says they were not sent), so
//! the caller can resend them safely. The held rest of a slot sent in waves is reported the
//! same way. The broken connection is dropped and `CLUSTER SLOTS`
//! fetched again, so after a failover the next round or run reaches the promoted replica.
//!
//! **Bounded waits.** The response timeout is [`DEFAULT_RESPONSE_TIMEOUT`], 15 s, unless
//! [`ClusterNodes::set_response_timeout`] sets another (or `None`, no bound): a primary frozen
//! (a stopped process, a hung VM) or cut off holds a batch that long at most, not for ever,
//! while a node that is only slow (a large pipeline, a slow script) is waited for. 15 s is
//! Redis's default `cluster-node-timeout`: a primary silent that long is being failed over,
//! and what was sent to it cannot be sent elsewhere anyway (it may have run). Making a
//! connection, its handshake included (the `redis` crate's `HELLO`/`AUTH`/`CLIENT SETINFO`),
//! takes at most 1 s, and `CLUSTER SLOTS` at most 2 s per node asked. So with the default
//! [`Retry`], a batch with one frozen primary returns after about 15 s plus a few seconds of
//! reconnecting and pausing, with that node's share failed as above and every other
//! invocation done.
//!
//! Single invocations on a `redis::cluster_async::ClusterConnection`
//! ([`invoke_async`](crate::Script::invoke_async) and the `cluster` module) are bounded by that
//! connection's own settings: in redis 1.8 a `ClusterClient` waits 1 s to connect and
//! **no response timeout** unless its builder's `response_timeout` sets one (its retries then
//! resend a timed-out request, which may run it twice), so set one there too.
//!
//! A reply the `redis` crate cannot read (an error reply that is not valid UTF-8, from a
//! script's `redis.error_reply` or `error(...)` quoting binary data) is the same case: the
//! node's multiplexed connection closes itself, the invocations of the pipeline in flight get
//! an I/O error ([`Error::ran`] says [`Ran::Maybe`](crate::Ran); they ran, the one with the
//! unreadable reply included) and are not sent again, the replies of the other nodes and of
//! earlier pipelines are kept, and the node is connected again for later rounds and batches.
//!
//! # Functions
//!
//! [`ClusterBatch::invoke_function`] adds calls of Redis 7 functions (`FCALL`, `FCALL_RO`),
//! routed by the slot of their first key (keyless ones spread over the primaries), grouped
//! with the slot's script invocations, and retried the same way. Each primary's first pipeline
//! of a round starts with one `FUNCTION LOAD` per library of its share (never `REPLACE`;
//! answered `Library ... already exists` when the node has it, which is as good), as it does
//! with `SCRIPT LOAD`. A `FUNCTION FLUSH` can land between that load and a group; inside one
//! `EXEC` a library is present or missing for the whole group, so a group whose calls all
//! answered `ERR Function not found` ran none of them and is sent again whole after a new
//! load, and one mixing a missing library with code that ran sends again its trailing run and
//! reports the rest as [`Error::NotRun`], exactly as for `NOSCRIPT`
//! above. A function has no `EVAL` form, so every round loads its libraries again; what still
//! misses its library when the rounds are used up is reported as not run. Replicas get the
//! libraries by replication.
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
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    Arg, AsyncConnectionConfig, Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo,
    RedisError, ServerError, Value,
};
use redis_script_analysis::{SLOT_COUNT, hash_slot};

use crate::pipeline::{LoadKey, Outcome, Replies, ScriptInfo, Ticket};
#[cfg(test)]
use crate::recover::is_noscript_value;
use crate::{Error, Function, Script};

/// How many times an invocation is sent at most, by default ([`Retry::default`]).
pub const MAX_ROUNDS: usize = 8;

/// Commands per pipeline: a node's share is sent as consecutive pipelines of about this many
/// (a slot's group is never split, so one larger group makes a larger pipeline). Each waits for
/// the one before, so that a failure leaves the later ones unsent (and safe to send again);
/// the node idles for a round trip between two. At 1,024 commands that showed in batches of
/// small scripts (`BENCHMARKS.md`); 8,192 (about 0.5 MB of `EVALSHA`s) sends a batch of
/// 10,000 invocations over three primaries as one pipeline per node.
const CHUNK: usize = 8192;

/// The most invocations of one slot sent in waves rather than as one `MULTI` ... `EXEC` (see
/// [`Group::waves`]). A wave costs the node a round trip, a transaction two commands and one
/// `QUEUED` per invocation: in batches spread over many slots, almost every slot has at most
/// four invocations, and measured (`BENCHMARKS.md`) 2, 3, 4 and 8 were alike, so 4 keeps the
/// waves few whatever the batch.
const WAVE_LIMIT: usize = 4;

/// How long a [`ClusterBatch`] waits for a node's replies by default before it reports the
/// invocations in flight as failed with an I/O error that says they may have run
/// ([`ClusterNodes::set_response_timeout`] changes it).
///
/// Redis Cluster's own `cluster-node-timeout` (15 s by default): a primary that has not answered
/// for that long is, by the cluster's rule, failing, and its replica is about to take over. A
/// batch cannot do better than wait for it: what was sent to it may have run, so it is not
/// sent anywhere else, and a reply that comes later settles what happened. Past that time a
/// reply is unlikely to come from a node that still serves the slot (a frozen primary that
/// wakes after its failover is demoted, and its late writes are dropped by the resync), so
/// waiting longer only delays the caller. A shorter deadline would turn a node that is only
/// slow (a pipeline of 8,192 heavy invocations, a fork or a long script) into invocations of
/// unknown outcome. Set your cluster's `cluster-node-timeout` if it differs.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(redis_script::batch::DEFAULT_RESPONSE_TIMEOUT, Duration::from_secs(15));
/// ```
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long making a connection to a node may take: the TCP (and TLS) connect and the
/// handshake the `redis` crate sends before the first command (`HELLO`, `AUTH`, `SELECT`,
/// `CLIENT SETINFO`), which the crate bounds as a whole by its connection timeout. It is the
/// crate's default (1 s), said here so that a frozen node (whose kernel still accepts the
/// connection while the server does not answer) cannot hold a batch or a slot-map refresh for
/// longer: the response timeout applies only once the connection is made.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long `CLUSTER SLOTS` may take before the next node is asked: it is answered from
/// memory, so a node that takes longer is stuck or unreachable.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(2);

/// How a [`ClusterBatch`] sends again what nodes refused: each invocation is sent at most
/// `rounds` times; a round after a refusal that takes time to clear (`TRYAGAIN` during a
/// migration, `CLUSTERDOWN` during a failover, `LOADING`, a node that cannot be connected to)
/// first pauses `first_pause`, doubled each time, at most `max_pause`. A round that only
/// follows `MOVED`/`ASK` does not pause: the redirect names where to go now.
///
/// ```
/// use std::time::Duration;
/// use redis_script::batch::{ClusterBatch, Retry};
///
/// // Ride out a failover of up to about 20 s.
/// let retry = Retry { rounds: 25, first_pause: Duration::from_millis(50), max_pause: Duration::from_secs(1) };
/// let batch = ClusterBatch::new().with_retry(retry);
/// assert_eq!(batch.retry().rounds, 25);
/// assert_eq!(Retry::default().pause(0), Duration::from_millis(20));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Sends per invocation at most, the first included (0 counts as 1).
    pub rounds: usize,
    /// The first pause.
    pub first_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
}

impl Default for Retry {
    /// [`MAX_ROUNDS`] rounds; pauses of 20 ms, 40 ms, ..., at most 1 s (about 2.3 s in all).
    fn default() -> Self {
        Retry {
            rounds: MAX_ROUNDS,
            first_pause: Duration::from_millis(20),
            max_pause: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// The pause before the `n`-th pausing round (from 0): `first_pause * 2^n`, at most
    /// `max_pause`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let retry = redis_script::batch::Retry::default();
    /// assert_eq!(retry.pause(2), Duration::from_millis(80));
    /// assert_eq!(retry.pause(40), Duration::from_secs(1));
    /// ```
    pub fn pause(&self, n: u32) -> Duration {
        let factor = 2u32.checked_pow(n).unwrap_or(u32::MAX);
        self.first_pause
            .checked_mul(factor)
            .unwrap_or(self.max_pause)
            .min(self.max_pause)
    }
}

/// A pause that needs no async runtime (the crate runs on tokio or smol): a thread sleeps,
/// then wakes the task. Batches pause only between rounds after a refusal, so a thread per
/// pause costs nothing that matters.
struct Pause {
    duration: Duration,
    state: Arc<Mutex<PauseState>>,
    started: bool,
}

#[derive(Default)]
struct PauseState {
    done: bool,
    waker: Option<Waker>,
}

impl Pause {
    fn new(duration: Duration) -> Self {
        Pause {
            duration,
            state: Arc::default(),
            started: false,
        }
    }
}

impl Future for Pause {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.duration.is_zero() {
            return Poll::Ready(());
        }
        {
            // A poisoned lock means the sleeper panicked: pausing no longer is what is left.
            let Ok(mut state) = self.state.lock() else {
                return Poll::Ready(());
            };
            if state.done {
                return Poll::Ready(());
            }
            state.waker = Some(cx.waker().clone());
        }
        if !self.started {
            self.started = true;
            let (state, duration) = (self.state.clone(), self.duration);
            let spawned = std::thread::Builder::new()
                .name("redis-script-batch-pause".into())
                .spawn(move || {
                    std::thread::sleep(duration);
                    if let Ok(mut state) = state.lock() {
                        state.done = true;
                        if let Some(waker) = state.waker.take() {
                            waker.wake();
                        }
                    }
                });
            if spawned.is_err() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

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
        if text.chars().any(char::is_whitespace) || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
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
    /// Index into `nodes` for each slot; `NO_OWNER` for a slot no node serves. Two bytes each
    /// (a node serves at least one of the 16,384 slots, so there are fewer nodes than that):
    /// the table is looked up once per slot group, and at 32 KB it stays in the cache.
    owners: Vec<u16>,
    nodes: Vec<Address>,
}

const NO_OWNER: u16 = u16::MAX;

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
            let node = match u16::try_from(node) {
                Ok(node) if node != NO_OWNER => node,
                _ => return Err(invalid(format!("more than {NO_OWNER} primaries"))),
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
            Some(&node) if node != NO_OWNER => Some(usize::from(node)),
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
/// The connections wait [`DEFAULT_RESPONSE_TIMEOUT`] (15 s, Redis's default
/// `cluster-node-timeout`) for a node's replies, so that a frozen or unreachable primary
/// cannot hold a batch without bound; the invocations whose replies did not come in time are
/// reported as failed with an I/O error that says they may have run.
/// [`set_response_timeout`](Self::set_response_timeout) changes it (`None` waits as long as
/// the connection stays up). Making a connection, its handshake included, takes at most 1 s.
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
    response_timeout: Option<Duration>,
}

impl std::fmt::Debug for ClusterNodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNodes")
            .field("map", &self.map)
            .field("connected", &self.connections.keys().collect::<Vec<_>>())
            .field("response_timeout", &self.response_timeout)
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
            response_timeout: Some(DEFAULT_RESPONSE_TIMEOUT),
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
                Ok(mut connection) => {
                    // On a clone: the timeout is for this command only.
                    connection.set_response_timeout(REFRESH_TIMEOUT);
                    let reply = connection.send_packed_command(&command).await;
                    if reply.as_ref().is_err_and(RedisError::is_io_error) {
                        self.connections.remove(&address);
                    }
                    reply
                }
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

    /// Sets how long a batch waits for a node's replies (to one pipeline of up to 8,192
    /// commands) before reporting the invocations in flight as failed with an I/O error that
    /// says they may have run ([`Error::is_io_error`]; they are not sent again, and the slot's
    /// later invocations are not sent in that batch). [`DEFAULT_RESPONSE_TIMEOUT`] (15 s)
    /// unless set; set your cluster's `cluster-node-timeout` if it differs, more if a pipeline
    /// of your scripts can take longer; `None` waits as long as the connection stays up.
    /// Applies to connections made from now on: the current ones are dropped.
    ///
    /// ```no_run
    /// # async fn run(nodes: &mut redis_script::batch::ClusterNodes) {
    /// // A cluster with `cluster-node-timeout 30000`.
    /// nodes.set_response_timeout(Some(std::time::Duration::from_secs(30)));
    /// # }
    /// ```
    pub fn set_response_timeout(&mut self, timeout: Option<Duration>) {
        self.response_timeout = timeout;
        self.connections.clear();
    }

    /// How long a batch waits for a node's replies: [`DEFAULT_RESPONSE_TIMEOUT`] unless
    /// [`set_response_timeout`](Self::set_response_timeout) changed it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), redis_script::Error> {
    /// use redis_script::batch::{ClusterNodes, DEFAULT_RESPONSE_TIMEOUT};
    /// let nodes = ClusterNodes::connect("redis://127.0.0.1:7000/").await?;
    /// assert_eq!(nodes.response_timeout(), Some(DEFAULT_RESPONSE_TIMEOUT));
    /// # Ok(()) }
    /// ```
    pub fn response_timeout(&self) -> Option<Duration> {
        self.response_timeout
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
        // Not `get_multiplexed_async_connection()`: its default response timeout (500 ms in
        // redis 1.8) would report a chunk that takes longer as failed, though it ran.
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(self.response_timeout)
            .set_connection_timeout(Some(CONNECT_TIMEOUT));
        let connection = redis::Client::open(info)?
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        self.connections.insert(address.clone(), connection.clone());
        Ok(connection)
    }
}

/// One invocation of a batch.
#[derive(Clone, Copy, Debug)]
struct Entry {
    script: &'static ScriptInfo,
    /// Its `numkeys`, keys and arguments: `ClusterBatch::args` from `start` to `end`.
    start: usize,
    end: usize,
    /// Whether the script may go in waves: it cannot reply an error of its own words
    /// (`Script::MAY_REPLY_OWN_ERROR`, computed by the derive).
    plain: bool,
}

/// The slot of the first key of an invocation, from its arguments `numkeys key...` (those of
/// an `EVALSHA sha1 numkeys key...` command after the SHA1).
fn first_key_slot<'a>(mut args: impl Iterator<Item = Arg<&'a [u8]>>) -> Option<u16> {
    // `numkeys` as the derive writes it: decimal digits. Only whether it is zero matters.
    let keyless = match args.next()? {
        Arg::Simple(digits) if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            digits.iter().all(|&digit| digit == b'0')
        }
        _ => return None,
    };
    if keyless {
        return None;
    }
    match args.next()? {
        Arg::Simple(key) => Some(hash_slot(key)),
        _ => None,
    }
}

/// Where a group goes next. A redirect's address is boxed: groups are moved around several
/// times per round, nearly all of them `BySlot`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// The owner of its slot in the slot map (any primary for a script without keys).
    BySlot,
    /// The node a `MOVED` named.
    Moved(Box<Address>),
    /// The node an `ASK` named, with `ASKING` first.
    Ask(Box<Address>),
}

/// The invocations sent together: all pending invocations of one slot, in the order added, or
/// one invocation of a script without keys.
#[derive(Clone, Debug)]
struct Group {
    slot: Option<u16>,
    members: Members,
    target: Target,
    /// How many times its members were answered `NOSCRIPT`: after
    /// [`flight::MAX_RELOADS`](crate::flight::MAX_RELOADS), and in the last round, they go as
    /// `EVAL`, which cannot answer that.
    noscripts: usize,
    /// Sent as `MULTI` ... `EXEC` whatever its size: the rest of a slot sent in waves after one
    /// of its invocations was answered `ASK` (see [`Group::waves`]), or a slot of which a
    /// script may reply an error of its own words (`Script::MAY_REPLY_OWN_ERROR`, computed by the derive).
    transaction: bool,
}

impl Group {
    /// Whether the group goes out in waves: its members one by one as plain commands, each
    /// sent only after the one before it ran (see [`WAVE_LIMIT`]). Not with `ASKING`: that an
    /// invocation's keys have left the source says nothing of the next one's.
    fn waves(&self) -> bool {
        self.members.len() > 1
            && self.members.len() <= WAVE_LIMIT
            && !self.transaction
            && !self.asking()
    }

    /// Whether the group goes out as `MULTI` ... `EXEC`: then a refusal of one member stops the
    /// members after it from running.
    fn atomic(&self) -> bool {
        self.members.len() > 1 && !self.waves()
    }

    fn asking(&self) -> bool {
        matches!(self.target, Target::Ask(_))
    }

    /// Whether its invocations go as `EVAL` (see `noscripts`).
    fn eval(&self, last_round: bool) -> bool {
        self.noscripts > 0 && (last_round || self.noscripts >= crate::flight::MAX_RELOADS)
    }

    /// Commands on the wire, `ASKING`, `MULTI` and `EXEC` included: of the whole group, or of
    /// one member of a group sent in waves.
    fn commands(&self) -> usize {
        if self.waves() {
            return 1;
        }
        // Not in waves: `atomic` is then whether it has more than one member.
        let len = self.members.len();
        usize::from(self.asking()) + len + if len > 1 { 2 } else { 0 }
    }
}

/// The invocations of a group, by index: in place up to [`WAVE_LIMIT`] (nearly every group of
/// a batch spread over many slots, and no allocation each), on the heap beyond.
#[derive(Clone, Debug)]
enum Members {
    /// `len` is at most [`WAVE_LIMIT`]: a byte, which shares a word with the variant's tag.
    Inline {
        len: u8,
        at: [usize; WAVE_LIMIT],
    },
    Heap(Vec<usize>),
}

impl Members {
    fn one(member: usize) -> Self {
        let mut at = [0; WAVE_LIMIT];
        at[0] = member;
        Members::Inline { len: 1, at }
    }

    fn push(&mut self, member: usize) {
        match self {
            Members::Inline { len, at } if usize::from(*len) < WAVE_LIMIT => {
                at[usize::from(*len)] = member;
                *len += 1;
            }
            Members::Inline { len, at } => {
                let mut heap = at[..usize::from(*len)].to_vec();
                heap.push(member);
                *self = Members::Heap(heap);
            }
            Members::Heap(heap) => heap.push(member),
        }
    }
}

impl From<&[usize]> for Members {
    fn from(members: &[usize]) -> Self {
        match u8::try_from(members.len()) {
            Ok(len) if usize::from(len) <= WAVE_LIMIT => {
                let mut at = [0; WAVE_LIMIT];
                at[..members.len()].copy_from_slice(members);
                Members::Inline { len, at }
            }
            _ => Members::Heap(members.to_vec()),
        }
    }
}

impl From<Vec<usize>> for Members {
    fn from(members: Vec<usize>) -> Self {
        if members.len() <= WAVE_LIMIT {
            Members::from(&members[..])
        } else {
            Members::Heap(members)
        }
    }
}

impl std::ops::Deref for Members {
    type Target = [usize];

    fn deref(&self) -> &[usize] {
        match self {
            Members::Inline { len, at } => &at[..usize::from(*len)],
            Members::Heap(heap) => heap,
        }
    }
}

impl<'a> IntoIterator for &'a Members {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A server error that says the node did not run the command.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Refusal {
    Moved(Address),
    Ask(Address),
    /// `MOVED`/`ASK` without a usable address: follow the refreshed slot map.
    Redirect,
    /// Refusals that take time to clear: `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`,
    /// `READONLY`.
    Wait,
}

/// The wordings of Redis 7.0 to 8.2 and Valkey 8.1 to 9.1 (`server.c`, `cluster.c`) for
/// refusals other than redirects. They are the same on both servers but for `LOADING`, which
/// names the server (Valkey writes its `SERVER_TITLE` where Redis writes "Redis").
const WAIT_REFUSALS: &[(&str, &str)] = &[
    ("TRYAGAIN", "Multiple keys request during rehashing of slot"),
    ("CLUSTERDOWN", "The cluster is down"),
    ("CLUSTERDOWN", "Hash slot not served"),
    (
        "CLUSTERDOWN",
        "The cluster is down and only accepts read commands",
    ),
    (
        "MASTERDOWN",
        "Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    ),
    (
        "MASTERDOWN",
        "Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.",
    ),
    ("LOADING", "Redis is loading the dataset in memory"),
    ("LOADING", "Valkey is loading the dataset in memory"),
    ("READONLY", "You can't write against a read only replica."),
    (
        "READONLY",
        "Can not run script with write flag on readonly replica",
    ),
];

/// Whether `code detail` is, word for word, a refusal Redis sends for a command of `slot`. A
/// script's own error reply in another form (`TRYAGAIN later`, a `MOVED` naming another slot,
/// an error of a `redis.call` with Redis's ` script: ...` suffix) is not.
fn refusal_text(code: &str, detail: Option<&str>, slot: Option<u16>) -> Option<Refusal> {
    let detail = detail?;
    match code {
        "MOVED" | "ASK" => {
            let (named, address) = detail.split_once(' ')?;
            if named.is_empty() || !named.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if named.parse::<u16>().ok()? != slot? {
                return None;
            }
            let address = Address::parse(address)?;
            // Redis writes `:port` or `?:port` for a node whose address it does not know.
            if address.host.is_empty() || address.host == "?" {
                return Some(Refusal::Redirect);
            }
            Some(if code == "MOVED" {
                Refusal::Moved(address)
            } else {
                Refusal::Ask(address)
            })
        }
        _ => WAIT_REFUSALS
            .iter()
            .any(|&(known_code, known_detail)| known_code == code && known_detail == detail)
            .then_some(Refusal::Wait),
    }
}

fn refusal(error: &ServerError, slot: Option<u16>) -> Option<Refusal> {
    refusal_text(error.code(), error.details(), slot)
}

impl Refusal {
    fn target(&self) -> Target {
        match self {
            Refusal::Moved(address) => Target::Moved(Box::new(address.clone())),
            Refusal::Ask(address) => Target::Ask(Box::new(address.clone())),
            Refusal::Redirect | Refusal::Wait => Target::BySlot,
        }
    }
}

/// What a group's replies mean for the batch.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Its members ran, or are final without having run: their replies are set.
    Done,
    /// Nothing of it ran; send it again to `target`, after a pause if `wait`.
    Again { target: Target, wait: bool },
    /// These members (the group's last ones, in order) did not run for want of their script:
    /// send them again to the same node, after a `SCRIPT LOAD`.
    Reload(Vec<usize>),
}

/// `EXECABORT Transaction discarded because of previous errors.`: a command was refused while
/// queueing.
const EXECABORT_PREVIOUS: &str = "Transaction discarded because of previous errors.";
/// `EXECABORT Transaction discarded because of: <error>`: `EXEC` itself was refused.
const EXECABORT_BECAUSE: &str = "Transaction discarded because of: ";

/// Reads the replies of one group (`ASKING`, `MULTI` and `EXEC` included), sets its members'
/// replies and says what comes next.
#[cfg(test)]
fn settle(group: &Group, values: Vec<Value>, replies: &mut [Result<Value, RedisError>]) -> Next {
    settle_scripts(group, values, replies, &mut Scripts::none())
}

/// What [`settle`] needs to know of the scripts to recover from `NOSCRIPT`: the SHA1 of each
/// invocation, the loads that failed on the node, and where to mark what did not run.
struct Scripts<'a> {
    keys: &'a dyn Fn(usize) -> LoadKey,
    /// Whether a member's reply says it missed its script or library.
    missed: &'a dyn Fn(usize, &Value) -> bool,
    failed_loads: &'a [(LoadKey, Value)],
    not_run: &'a mut [bool],
}

impl Scripts<'_> {
    #[cfg(test)]
    fn none() -> Scripts<'static> {
        Scripts {
            keys: &|_| (false, ""),
            missed: &|_, value| is_noscript_value(value),
            failed_loads: &[],
            not_run: &mut [],
        }
    }

    fn failed_load(&self, member: usize) -> Option<&Value> {
        let key = (self.keys)(member);
        self.failed_loads
            .iter()
            .find(|(failed, _)| *failed == key)
            .map(|(_, error)| error)
    }

    fn mark_not_run(&mut self, member: usize) {
        if let Some(flag) = self.not_run.get_mut(member) {
            *flag = true;
        }
    }
}

/// After the members of a group ran (their replies set): the invocations answered `NOSCRIPT`
/// did not run. Within one `EXEC` no flush can land, so usually all of them did and the group
/// goes again whole; otherwise (someone reloaded one of its scripts in between) the trailing run
/// goes again and the earlier ones are reported as not run, as in `recover`. An invocation
/// whose script failed to load on the node keeps the load's error, not run.
fn noscripts(
    group: &Group,
    replies: &mut [Result<Value, RedisError>],
    scripts: &mut Scripts<'_>,
) -> Next {
    let missed = scripts.missed;
    let is_noscript = |member: usize, replies: &[Result<Value, RedisError>]| matches!(&replies[member], Ok(value) if missed(member, value));
    if !group
        .members
        .iter()
        .any(|&member| is_noscript(member, replies))
    {
        return Next::Done;
    }
    let mut trailing = group.members.len();
    while trailing > 0 && is_noscript(group.members[trailing - 1], replies) {
        trailing -= 1;
    }
    for &member in &group.members[..trailing] {
        if is_noscript(member, replies) {
            scripts.mark_not_run(member);
        }
    }
    let mut again = Vec::new();
    for &member in &group.members[trailing..] {
        match scripts.failed_load(member).cloned() {
            Some(error) => {
                replies[member] = Ok(error);
                scripts.mark_not_run(member);
            }
            None => again.push(member),
        }
    }
    if again.is_empty() {
        Next::Done
    } else {
        Next::Reload(again)
    }
}

fn settle_scripts(
    group: &Group,
    values: Vec<Value>,
    replies: &mut [Result<Value, RedisError>],
    scripts: &mut Scripts<'_>,
) -> Next {
    let mut values = values.into_iter();
    if group.asking() {
        values.next(); // ASKING's +OK
    }
    if !group.atomic() {
        let value = values.next().unwrap_or(Value::Nil);
        return match group.members.first() {
            Some(&member) => settle_single(group.slot, member, value, replies, scripts),
            None => Next::Done,
        };
    }
    let multi = values.next();
    let queued: Vec<Value> = values.by_ref().take(group.members.len()).collect();
    let exec = values.next().unwrap_or(Value::Nil);
    if !matches!(&multi, Some(Value::Okay))
        && !matches!(&multi, Some(Value::SimpleString(ok)) if ok == "OK")
    {
        // No transaction was opened (it cannot be refused, but if it were): the invocations
        // ran as plain commands and these are their replies.
        for (&member, value) in group.members.iter().zip(queued) {
            replies[member] = Ok(value);
        }
        return Next::Done;
    }
    let exec_error = match exec {
        Value::Array(results) if results.len() == group.members.len() => {
            for (&member, value) in group.members.iter().zip(results) {
                replies[member] = Ok(value);
            }
            return noscripts(group, replies, scripts);
        }
        Value::ServerError(error) => error,
        other => {
            let error = RedisError::from((
                ErrorKind::UnexpectedReturnType,
                "unexpected EXEC reply",
                format!("{other:?}"),
            ));
            for &member in &group.members {
                replies[member] = Err(error.clone());
            }
            return Next::Done;
        }
    };
    // From here on the transaction was discarded: nothing of the group ran.
    let mut refusals = Vec::new();
    let mut queued_count = 0;
    let mut refused_otherwise = false;
    if exec_error.code() == "EXECABORT" && exec_error.details() == Some(EXECABORT_PREVIOUS) {
        for (&member, value) in group.members.iter().zip(queued) {
            match value {
                Value::ServerError(error) => {
                    match refusal(&error, group.slot) {
                        Some(refusal) => refusals.push(refusal),
                        None => refused_otherwise = true,
                    }
                    replies[member] = Ok(Value::ServerError(error));
                }
                _ => {
                    queued_count += 1;
                    replies[member] = Ok(Value::ServerError(exec_error.clone()));
                }
            }
        }
    } else {
        let inner = match exec_error.details() {
            Some(detail) if exec_error.code() == "EXECABORT" => {
                detail.strip_prefix(EXECABORT_BECAUSE).and_then(|inner| {
                    let (code, detail) = inner.split_once(' ')?;
                    refusal_text(code, Some(detail), group.slot)
                })
            }
            detail => refusal_text(exec_error.code(), detail, group.slot),
        };
        match inner {
            Some(refusal) => refusals.push(refusal),
            None => refused_otherwise = true,
        }
        for &member in &group.members {
            replies[member] = Ok(Value::ServerError(exec_error.clone()));
        }
    }
    if refused_otherwise || refusals.is_empty() {
        // Refused for a reason that sending again does not cure (OOM, NOPERM, ...): final,
        // and each reply says it did not run.
        return Next::Done;
    }
    let first = refusals[0].clone();
    let same = refusals.iter().all(|refusal| *refusal == first);
    match first {
        // Everything redirected to one node: go there now. With `ASK` only if no member was
        // queued here: the members of one slot go together, and some keys are still here.
        Refusal::Moved(_) if same => Next::Again {
            target: first.target(),
            wait: false,
        },
        Refusal::Ask(_) if same && queued_count == 0 => Next::Again {
            target: first.target(),
            wait: false,
        },
        _ => Next::Again {
            target: Target::BySlot,
            wait: true,
        },
    }
}

/// Reads the reply of one invocation sent alone (a group of one, or a member of a group sent
/// in waves), sets it and says what comes next: a refusal in the server's own words means it
/// did not run; `NOSCRIPT` (or a missing library) means it did not run for want of its script,
/// final if the script failed to load on the node.
fn settle_single(
    slot: Option<u16>,
    member: usize,
    value: Value,
    replies: &mut [Result<Value, RedisError>],
    scripts: &mut Scripts<'_>,
) -> Next {
    // Only an error can be a refusal or a missing script: the common reply looks at nothing
    // else (the entry's script is not read, which saves a cache miss per invocation).
    let (refused, missed) = match &value {
        Value::ServerError(error) => {
            let refused = refusal(error, slot);
            let missed = refused.is_none() && (scripts.missed)(member, &value);
            (refused, missed)
        }
        _ => (None, false),
    };
    replies[member] = Ok(value);
    if let Some(refusal) = refused {
        return Next::Again {
            wait: refusal == Refusal::Wait || refusal == Refusal::Redirect,
            target: refusal.target(),
        };
    }
    if !missed {
        return Next::Done;
    }
    match scripts.failed_load(member).cloned() {
        Some(error) => {
            replies[member] = Ok(error);
            scripts.mark_not_run(member);
            Next::Done
        }
        None => Next::Reload(vec![member]),
    }
}

/// Whether the reply of a member sent in a wave lets the next member of its slot go: it ran
/// (whatever it returned), as opposed to a refusal or a missing script, after which it is to
/// be sent again first. Decides as [`settle_single`] does.
fn wave_ran(slot: Option<u16>, value: &Value, missed: bool) -> bool {
    let refused = matches!(value, Value::ServerError(error) if refusal(error, slot).is_some());
    !refused && !missed
}

/// The error of the invocations of a pipeline that failed in flight: they may have run. An
/// I/O error stays one ([`Error::is_io_error`], and [`RedisError::is_timeout`] for a response
/// timeout), with words that say so; any other error is kept as it is.
fn in_flight(address: &Address, timeout: Option<Duration>, error: RedisError) -> RedisError {
    if !error.is_io_error() {
        return error;
    }
    let kind = if error.is_timeout() {
        std::io::ErrorKind::TimedOut
    } else if error.is_connection_dropped() {
        std::io::ErrorKind::ConnectionAborted
    } else {
        std::io::ErrorKind::Other
    };
    let text = if error.is_timeout() {
        let within = timeout.map_or_else(String::new, |timeout| format!(" within {timeout:?}"));
        format!(
            "no reply from {address}{within} (the response timeout): the invocation may have \
            run, or may still run when the node answers"
        )
    } else {
        format!(
            "the connection to {address} failed before the reply ({error}): the invocation may \
            have run"
        )
    };
    RedisError::from(std::io::Error::new(kind, text))
}

/// An error for invocations that were not sent, so sending them again is safe.
fn not_sent(address: &Address, why: &str, error: &RedisError) -> RedisError {
    RedisError::from((
        ErrorKind::ClusterConnectionNotFound,
        "the invocation was not sent",
        format!("{address}: {why}: {error}"),
    ))
}

/// A group to send in the next round.
struct Again {
    group: Group,
    /// Pause first (a refusal that takes time to clear).
    wait: bool,
    /// The slot map is stale: fetch it again first.
    stale: bool,
}

impl Again {
    fn refused(group: Group, wait: bool) -> Self {
        Again {
            group,
            wait,
            stale: true,
        }
    }
}

/// What became of a node's share in a round (see [`ClusterBatch::send_share`]): its groups, what
/// became of each (by the same index), and the loads that failed.
type Share = (Vec<Group>, Vec<Shipped>, Vec<(LoadKey, Value)>);

/// What became of one group's pipeline.
enum Sent {
    /// The group's replies, `ASKING`, `MULTI` and `EXEC` included.
    Replies(Vec<Value>),
    /// The reply of a group of one command: one invocation alone, or a member sent in a wave
    /// (apart, to save an allocation per invocation).
    One(Value),
    /// The pipeline failed in flight: the group may have run.
    Failed(RedisError),
    /// Not sent, because an earlier pipeline to the node failed.
    Skipped(RedisError),
    /// The reply of an invocation alone, taken straight into the caller's replies: it is no
    /// error, so there is nothing to settle.
    Settled,
}

/// What became of one group in a node's share (kept apart from the group, which is not moved
/// while its node works).
#[derive(Default)]
struct Shipped {
    /// Of a group sent in waves: how many of its first members were answered with a reply
    /// that is no error, taken straight into the caller's replies (see [`Share`]).
    settled: usize,
    /// Of a group sent in waves: the replies of its members sent after the `settled` ones, in
    /// order (each ran, but perhaps the last, which then held back the rest).
    answered: Vec<Value>,
    /// Of a group sent whole: its outcome (`Settled` once its reply was taken). Of a group
    /// sent in waves: what became of the member after the answered ones, if its pipeline
    /// failed or was not sent; `None` when every member was answered or the last answered held
    /// back the rest.
    last: Option<Sent>,
}

/// Settles a group sent in waves from the replies of its members sent (see [`Shipped`]); puts
/// what is to be sent again into `again`. Returns whether the node's connection broke.
fn settle_waves(
    group: Group,
    settled: usize,
    answered: Vec<Value>,
    last: Option<Sent>,
    replies: &mut [Result<Value, RedisError>],
    scripts: &mut Scripts<'_>,
    again: &mut Vec<Again>,
) -> bool {
    let count = settled + answered.len();
    let mut next = Next::Done;
    let unsettled = group.members.get(settled..).unwrap_or_default();
    for (&member, value) in unsettled.iter().zip(answered) {
        next = settle_single(group.slot, member, value, replies, scripts);
    }
    // The members from `rest` on did not run: the last answered one, if it was refused or
    // missed its script (a member is sent only after the one before it ran), and those after.
    let rest = match next {
        Next::Done => count,
        _ => count.saturating_sub(1),
    };
    if rest >= group.members.len() {
        return false;
    }
    let remainder = |group: &Group| Group {
        members: Members::from(&group.members[rest..]),
        ..group.clone()
    };
    match last {
        Some(Sent::Failed(error)) => {
            // It may have run, or may still run (a node that answers late, a frozen one that
            // wakes up): the slot's later members must not run before it, so they are not
            // sent again in this batch; their error says they were not sent.
            replies[group.members[rest]] = Err(error.clone());
            let held = RedisError::from((
                ErrorKind::ClusterConnectionNotFound,
                "the invocation was not sent",
                format!(
                    "an earlier invocation of its slot may have run (its pipeline failed: \
                    {error}); sending this one could run it first"
                ),
            ));
            for &member in &group.members[rest + 1..] {
                replies[member] = Err(held.clone());
            }
            return true;
        }
        Some(Sent::Skipped(error)) => {
            // Not sent, and nothing of the slot is in flight: all of the rest goes again.
            for &member in &group.members[rest..] {
                replies[member] = Err(error.clone());
            }
            again.push(Again::refused(retarget(remainder(&group)), true));
        }
        // (`Settled` is only ever the outcome of an invocation alone.)
        Some(Sent::Replies(_) | Sent::One(_) | Sent::Settled) | None => {
            // Kept if the rounds run out before they are sent.
            let held = RedisError::from((
                ErrorKind::ClusterConnectionNotFound,
                "the invocation was not sent",
                "an earlier invocation of its slot did not run (refused, or its script was \
                missing), and the slot's invocations run in the order added"
                    .to_owned(),
            ));
            for &member in group.members.iter().skip(count) {
                replies[member] = Err(held.clone());
            }
            match next {
                // Held back by a member whose script failed to load: final, the rest goes again.
                Next::Done => again.push(Again {
                    group: remainder(&group),
                    wait: false,
                    stale: false,
                }),
                // An `ASK` says where the member's keys went, not the next member's: the rest goes
                // to the slot's owner as one transaction, which goes on to the `ASK` target only if
                // every member is redirected there (see `settle_scripts`).
                Next::Again {
                    target: Target::Ask(_),
                    ..
                } if rest + 1 < group.members.len() => again.push(Again::refused(
                    Group {
                        target: Target::BySlot,
                        transaction: true,
                        ..remainder(&group)
                    },
                    false,
                )),
                Next::Again { target, wait } => again.push(Again::refused(
                    Group {
                        target,
                        ..remainder(&group)
                    },
                    wait,
                )),
                Next::Reload(_) => again.push(Again {
                    group: Group {
                        noscripts: group.noscripts + 1,
                        ..remainder(&group)
                    },
                    wait: false,
                    stale: false,
                }),
            }
        }
    }
    false
}

/// Many script invocations, possibly of different scripts, run across a Redis Cluster in one
/// call: grouped by slot and primary, pipelined per primary, all primaries at once, replies in
/// the order added. See the [module documentation](crate::batch) for the guarantees.
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
    /// Every invocation's `numkeys`, keys and arguments, one after the other (each entry
    /// knows its range): one buffer that grows by doubling, where a command per invocation
    /// cost two allocations, and as much again to free. Each command is built from here as its
    /// pipeline is (while its bytes are fresh in the cache, as a hand-written pipeline builds
    /// them), and built again for a round that sends it again.
    args: Cmd,
    scripts: ScriptSet,
    retry: Retry,
}

/// Which scripts (and functions) a batch invokes, as far as it saves work: a batch of one
/// script, the common case, knows what each node loads without reading its invocations.
#[derive(Clone, Copy, Debug, Default)]
enum ScriptSet {
    #[default]
    Empty,
    One(&'static ScriptInfo),
    Mixed,
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

    /// Sets how refused invocations are sent again ([`Retry::default`] unless set).
    ///
    /// ```
    /// use redis_script::batch::{ClusterBatch, Retry};
    /// let batch = ClusterBatch::new().with_retry(Retry { rounds: 1, ..Retry::default() });
    /// assert_eq!(batch.retry().rounds, 1);
    /// ```
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// How refused invocations are sent again.
    ///
    /// ```
    /// use redis_script::batch::{ClusterBatch, Retry};
    /// assert_eq!(ClusterBatch::new().retry(), Retry::default());
    /// ```
    pub fn retry(&self) -> Retry {
        self.retry
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
        let start = self.args.args_iter().len();
        script.write_keys_and_args(&mut self.args);
        self.add(ScriptInfo::of::<S>(), start)
    }

    /// Adds a call of the function `function` (`FCALL`, `FCALL_RO` for a `no-writes`
    /// function), routed, grouped and retried as script invocations are; its reply converts
    /// into the function's `returns` type. Each primary gets one `FUNCTION LOAD` per library
    /// of its share before its groups (answered `Library ... already exists` when it has the
    /// library, which is as good); a group whose calls miss the library anyway (a
    /// `FUNCTION FLUSH` in between) ran none of them and is sent again whole, as after
    /// `NOSCRIPT` (see the [module documentation](crate::batch#functions)).
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() {
    /// let mut batch = redis_script::batch::ClusterBatch::new();
    /// let ticket = batch.invoke_function(&Transfer { from: "{b}:a", to: "{b}:b", amount: 1 });
    /// assert_eq!((ticket.index(), batch.len()), (0, 1));
    /// # }
    /// ```
    pub fn invoke_function<F: Function + ?Sized>(&mut self, function: &F) -> Ticket<F::Output> {
        let start = self.args.args_iter().len();
        function.write_keys_and_args(&mut self.args);
        self.add(ScriptInfo::of_function::<F>(), start)
    }

    /// Records the invocation whose `numkeys`, keys and arguments were just written to
    /// `args` from `start` on.
    fn add<T>(&mut self, script: &'static ScriptInfo, start: usize) -> Ticket<T> {
        let end = self.args.args_iter().len();
        // Known at compile time (`Script::MAY_REPLY_OWN_ERROR`).
        let plain = !script.may_reply_own_error;
        self.scripts = match self.scripts {
            ScriptSet::Empty => ScriptSet::One(script),
            // One constant per script type, so one address (a copy elsewhere only costs the
            // scan of the invocations this saves).
            ScriptSet::One(known) if std::ptr::eq(known, script) => ScriptSet::One(known),
            _ => ScriptSet::Mixed,
        };
        self.entries.push(Entry {
            script,
            start,
            end,
            plain,
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
        let args = self.arguments();
        let args = &args[..];
        // One child span per invocation, open for the whole batch (they share its rounds);
        // the commands are built only when spans are recorded.
        let _invocations = span.children((0..self.len()).map(|member| {
            (
                self.entries[member].script,
                self.command(args, member, false),
                false,
            )
        }));
        {
            let _entered = span.entered_guard();
            for (member, entry) in self.entries.iter().enumerate() {
                if entry.script.guard_slots {
                    entry
                        .script
                        .check_slots(&self.command(args, member, false))?;
                }
            }
        }
        let this = self;
        let run = async {
            let mut replies: Vec<Result<Value, RedisError>> = vec![Ok(Value::Nil); this.len()];
            let mut not_run = vec![false; this.len()];
            let mut pending = groups(
                (0..this.len()).map(|member| (this.slot(args, member), this.entries[member].plain)),
            );
            let mut wait = false;
            let mut stale = false;
            let mut pauses = 0u32;
            let mut node_count = 0;
            let mut retried = 0;
            let rounds = this.retry.rounds.max(1);
            for round in 0..rounds {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    if wait {
                        Pause::new(this.retry.pause(pauses)).await;
                        pauses = pauses.saturating_add(1);
                    }
                    retried += pending
                        .iter()
                        .map(|group| group.members.len())
                        .sum::<usize>();
                    // A redirect or refusal means the map is stale; a failed refresh keeps
                    // the old map (the redirects still name their targets). A `NOSCRIPT`
                    // does not: the node is right, only its script cache was emptied.
                    if stale {
                        let _ = nodes.refresh().await;
                    }
                }
                let last_round = round + 1 == rounds;
                let (again, used) = this
                    .send_round(
                        nodes,
                        pending,
                        (&mut replies, &mut not_run),
                        args,
                        last_round,
                    )
                    .await;
                node_count = node_count.max(used);
                wait = again.iter().any(|again| again.wait);
                stale = again.iter().any(|again| again.stale);
                pending = again.into_iter().map(|again| again.group).collect();
            }
            // What still says `NOSCRIPT` (or `Function not found`) when the rounds are used up
            // did not run.
            for ((reply, not_run), entry) in replies.iter().zip(&mut not_run).zip(&this.entries) {
                // Only an error can say so: the common reply does not read its entry.
                if matches!(reply, Ok(value @ Value::ServerError(_)) if entry.script.missed(value))
                {
                    *not_run = true;
                }
            }
            Ok::<_, Error>((this.replies(replies, not_run), node_count, retried))
        };
        let (replies, node_count, retried) = span.instrument(run).await?;
        span.record_nodes(node_count, retried);
        Ok(replies)
    }

    /// Sends `pending`, grouped by node, all nodes concurrently; returns the groups to send
    /// again and how many nodes were used.
    async fn send_round(
        &self,
        nodes: &mut ClusterNodes,
        pending: Vec<Group>,
        (replies, not_run): (&mut [Result<Value, RedisError>], &mut [bool]),
        args: &[&[u8]],
        last_round: bool,
    ) -> (Vec<Again>, usize) {
        let mut again = Vec::new();
        let mut shares: BTreeMap<Address, Vec<Group>> = BTreeMap::new();
        // Groups that go by the slot map, per primary (by its index in the map): the common
        // case, kept apart so that no address is cloned or compared per group.
        let primaries = nodes.map.nodes.len();
        // Sized for an even spread and a little more, so that no share is copied as it grows.
        let even = pending.len() / primaries.max(1);
        let mut by_node: Vec<Vec<Group>> = (0..primaries)
            .map(|_| Vec::with_capacity(even + even / 8 + 16))
            .collect();
        let mut keyless = 0usize;
        for group in pending {
            let address = match &group.target {
                Target::Moved(address) | Target::Ask(address) => Some(Address::clone(address)),
                Target::BySlot => {
                    let owner = match group.slot {
                        Some(slot) => nodes.map.owner(slot),
                        None => {
                            keyless += 1;
                            Some(keyless % primaries.max(1))
                        }
                    };
                    if let Some(share) = owner.and_then(|node| by_node.get_mut(node)) {
                        share.push(group);
                        continue;
                    }
                    None
                }
            };
            match address {
                Some(address) => shares.entry(address).or_default().push(group),
                None => {
                    let error = RedisError::from((
                        ErrorKind::ClusterConnectionNotFound,
                        "no primary serves the slot of the invocation's first key; \
                        the invocation was not sent",
                        format!("slot {:?}", group.slot),
                    ));
                    for &member in &group.members {
                        replies[member] = Err(error.clone());
                    }
                    again.push(Again::refused(group, true));
                }
            }
        }
        for (node, share) in by_node.into_iter().enumerate() {
            if share.is_empty() {
                continue;
            }
            if let Some(address) = nodes.map.nodes.get(node) {
                let groups = shares.entry(address.clone()).or_default();
                if groups.is_empty() {
                    *groups = share;
                } else {
                    // A redirect named this primary too: keep the order of first members.
                    groups.extend(share);
                    groups.sort_by_key(|group| group.members.first().copied());
                }
            }
        }
        let node_count = shares.len();
        let timeout = nodes.response_timeout;
        // Each node's plain replies are written as its pipelines answer, while the other
        // nodes still work (see `send_share`); the rest is settled below.
        let answering = Mutex::new(&mut *replies);
        let mut runs = Vec::with_capacity(node_count);
        for (address, share) in shares {
            match nodes.connection(&address).await {
                Ok(connection) => {
                    let answering = &answering;
                    runs.push(async move {
                        let share = self
                            .send_share(
                                connection,
                                (&address, timeout),
                                share,
                                args,
                                last_round,
                                answering,
                            )
                            .await;
                        (address, share)
                    });
                }
                Err(error) => {
                    let error = not_sent(&address, "cannot connect", &error);
                    let mut replies = lock(&answering);
                    for group in share {
                        for &member in &group.members {
                            replies[member] = Err(error.clone());
                        }
                        again.push(Again::refused(retarget(group), true));
                    }
                }
            }
        }
        let shares = futures_util::future::join_all(runs).await;
        let replies = answering
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let keys = |member: usize| self.entries[member].script.load_key();
        let missed = |member: usize, value: &Value| self.entries[member].script.missed(value);
        let mut any_broken = false;
        for (address, (share, results, failed_loads)) in shares {
            let mut broken = false;
            let mut scripts = Scripts {
                keys: &keys,
                missed: &missed,
                failed_loads: &failed_loads,
                not_run: &mut *not_run,
            };
            for (
                group,
                Shipped {
                    settled,
                    answered,
                    last,
                },
            ) in share.into_iter().zip(results)
            {
                if group.waves() {
                    let (scripts, again) = (&mut scripts, &mut again);
                    broken |= settle_waves(group, settled, answered, last, replies, scripts, again);
                    continue;
                }
                // A group sent whole always has its outcome; `None` would mean it was not sent.
                let sent = last.unwrap_or_else(|| {
                    Sent::Skipped(RedisError::from((
                        ErrorKind::ClusterConnectionNotFound,
                        "the invocation was not sent",
                    )))
                });
                let next = match sent {
                    Sent::Settled => continue,
                    Sent::One(value) => match group.members.first() {
                        Some(&member) => {
                            settle_single(group.slot, member, value, replies, &mut scripts)
                        }
                        None => Next::Done,
                    },
                    Sent::Replies(values) => settle_scripts(&group, values, replies, &mut scripts),
                    Sent::Failed(error) => {
                        broken = true;
                        for &member in &group.members {
                            replies[member] = Err(error.clone());
                        }
                        Next::Done
                    }
                    Sent::Skipped(error) => {
                        for &member in &group.members {
                            replies[member] = Err(error.clone());
                        }
                        again.push(Again::refused(retarget(group), true));
                        continue;
                    }
                };
                match next {
                    Next::Done => {}
                    Next::Again { target, wait } => {
                        again.push(Again::refused(Group { target, ..group }, wait));
                    }
                    Next::Reload(members) => again.push(Again {
                        group: Group {
                            members: members.into(),
                            noscripts: group.noscripts + 1,
                            ..group
                        },
                        wait: false,
                        stale: false,
                    }),
                }
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
        // Keep the order of first members, so a node's groups go out as added.
        again.sort_by_key(|again| again.group.members.first().copied());
        (again, node_count)
    }

    /// One node's share, in waves: the first sends every group (of a group sent in waves, its
    /// first member), each later one the next member of each group sent in waves whose member
    /// in the wave before ran ([`wave_ran`]). A wave goes as consecutive pipelines, each waited
    /// for before the next, so that they run in order; a group is never split between two.
    /// The first pipeline starts with one `SCRIPT LOAD` per distinct script of the share sent
    /// as `EVALSHA`: a script's source goes to each node once per round, not once per
    /// invocation, and a flush that lands after the load costs a `NOSCRIPT`, which the next
    /// round answers (see [`noscripts`]). After a pipeline fails, nothing more is sent: the
    /// connection's state is unknown, and what was not sent can be sent again safely. A reply
    /// to an invocation alone or in a wave that is no error is final and goes into `answering`
    /// (the caller's replies) as its pipeline answers; returns what became of each group
    /// otherwise, and the loads that failed.
    async fn send_share(
        &self,
        mut connection: MultiplexedConnection,
        (address, timeout): (&Address, Option<Duration>),
        share: Vec<Group>,
        args: &[&[u8]],
        last_round: bool,
        answering: &Mutex<&mut [Result<Value, RedisError>]>,
    ) -> Share {
        let mut loads = self.loads(&share, last_round);
        let mut shipped: Vec<Shipped> = Vec::with_capacity(share.len());
        shipped.resize_with(share.len(), Shipped::default);
        let mut failure: Option<RedisError> = None;
        let mut failed_loads = Vec::new();
        // (group, position of the member sent) for groups sent in waves; the position is 0 for
        // the others, sent whole.
        let mut wave: Vec<(usize, usize)> = (0..shipped.len()).map(|index| (index, 0)).collect();
        while !wave.is_empty() {
            let chunk_loads = std::mem::take(&mut loads);
            let sent = self
                .send_wave(
                    &mut connection,
                    (address, timeout),
                    (&share, &wave),
                    args,
                    chunk_loads,
                    last_round,
                    &mut failure,
                    &mut failed_loads,
                )
                .await;
            let mut next = Vec::new();
            // Not held across an `await`: the other nodes' pipelines answer meanwhile.
            let mut replies = lock(answering);
            for ((index, position), sent) in wave.into_iter().zip(sent) {
                let (group, item) = (&share[index], &mut shipped[index]);
                let waves = group.waves();
                match sent {
                    // A reply that is no error is final (only an error can be a refusal or a
                    // missing script): it goes straight to the caller's replies, which is
                    // the fate of nearly every reply; the rest is settled by `send_round`.
                    Sent::One(value)
                        if !matches!(value, Value::ServerError(_))
                            && item.answered.is_empty()
                            && (waves || group.members.len() == 1) =>
                    {
                        replies[group.members[position]] = Ok(value);
                        if waves {
                            item.settled += 1;
                            if position + 1 < group.members.len() {
                                next.push((index, position + 1));
                            }
                        } else {
                            item.last = Some(Sent::Settled);
                        }
                    }
                    Sent::One(value) if waves => {
                        let ran = !matches!(value, Value::ServerError(_)) || {
                            let script = &self.entries[group.members[position]].script;
                            wave_ran(group.slot, &value, script.missed(&value))
                        };
                        item.answered.push(value);
                        if ran && position + 1 < group.members.len() {
                            next.push((index, position + 1));
                        }
                    }
                    other => item.last = Some(other),
                }
            }
            drop(replies);
            wave = next;
        }
        (share, shipped, failed_loads)
    }

    /// The scripts and libraries a node's share needs loaded, once each: none for a script
    /// that goes as `EVAL`; a function has no such form.
    fn loads(&self, share: &[Group], last_round: bool) -> Vec<&'static ScriptInfo> {
        let needs_load =
            |group: &Group, script: &ScriptInfo| !group.eval(last_round) || script.is_function();
        let mut loads: Vec<&'static ScriptInfo> = Vec::new();
        match self.scripts {
            ScriptSet::Empty => {}
            ScriptSet::One(script) => {
                if share.iter().any(|group| needs_load(group, script)) {
                    loads.push(script);
                }
            }
            ScriptSet::Mixed => {
                for group in share {
                    for &member in &group.members {
                        let script = self.entries[member].script;
                        // The same script's constants share their address: most checks end
                        // there.
                        if needs_load(group, script)
                            && !loads.iter().any(|known| {
                                std::ptr::eq(known.source, script.source)
                                    || known.load_key() == script.load_key()
                            })
                        {
                            loads.push(script);
                        }
                    }
                }
            }
        }
        loads
    }

    /// Sends one wave of a node's share (see [`send_share`](Self::send_share)) as consecutive
    /// pipelines, every one built before the first is sent, so that the node does not wait for
    /// the client to build the next one between two. Returns what became of each unit of
    /// `wave`, in order; `failure` is set by the first pipeline that fails, after which nothing
    /// is sent.
    #[allow(clippy::too_many_arguments)]
    async fn send_wave(
        &self,
        connection: &mut MultiplexedConnection,
        (address, timeout): (&Address, Option<Duration>),
        (share, wave): (&[Group], &[(usize, usize)]),
        args: &[&[u8]],
        mut loads: Vec<&ScriptInfo>,
        last_round: bool,
        failure: &mut Option<RedisError>,
        failed_loads: &mut Vec<(LoadKey, Value)>,
    ) -> Vec<Sent> {
        let mut chunks: Vec<(usize, redis::Pipeline, Vec<&ScriptInfo>, usize)> = Vec::new();
        // The commands of each unit, counted once: the replies are split by them.
        let mut sizes: Vec<usize> = Vec::with_capacity(wave.len());
        let mut units = wave.iter().peekable();
        while units.peek().is_some() {
            let chunk_loads = std::mem::take(&mut loads);
            let mut pipeline =
                redis::Pipeline::with_capacity(wave.len().min(CHUNK) + chunk_loads.len());
            for script in &chunk_loads {
                pipeline.add_command(script.load_command());
            }
            let (mut count, mut commands) = (0, 0);
            while let Some(&&(index, position)) = units.peek() {
                let group = &share[index];
                let size = group.commands();
                if commands > 0 && commands + size > CHUNK {
                    break;
                }
                units.next();
                sizes.push(size);
                commands += size;
                count += 1;
                let (members, atomic) = if group.waves() {
                    (&group.members[position..=position], false)
                } else {
                    (&group.members[..], group.members.len() > 1)
                };
                if group.asking() {
                    pipeline.cmd("ASKING");
                }
                if atomic {
                    pipeline.cmd("MULTI");
                }
                let eval = group.eval(last_round);
                for &member in members {
                    pipeline.add_command(self.command(args, member, eval));
                }
                if atomic {
                    pipeline.cmd("EXEC");
                }
            }
            let expected = commands + chunk_loads.len();
            chunks.push((count, pipeline, chunk_loads, expected));
        }
        let mut results = Vec::with_capacity(wave.len());
        let mut units = sizes.iter();
        for (count, pipeline, chunk_loads, expected) in chunks {
            let chunk = units.by_ref().take(count);
            if let Some(error) = failure.as_ref() {
                let error = not_sent(address, "an earlier pipeline to the node failed", error);
                results.extend(chunk.map(|_| Sent::Skipped(error.clone())));
                continue;
            }
            match connection
                .send_packed_commands(&pipeline, 0, expected)
                .await
            {
                Ok(values) if values.len() == expected => {
                    // Freed here, while the other nodes still work, as a hand-written
                    // pipeline is: freeing ten thousand commands takes a while.
                    drop(pipeline);
                    let mut values = values.into_iter();
                    for (script, reply) in chunk_loads.iter().zip(values.by_ref()) {
                        if script.load_failed(&reply) {
                            failed_loads.push((script.load_key(), reply));
                        }
                    }
                    for &commands in chunk {
                        results.push(if commands == 1 {
                            Sent::One(values.next().unwrap_or(Value::Nil))
                        } else {
                            Sent::Replies(values.by_ref().take(commands).collect())
                        });
                    }
                }
                Ok(values) => {
                    let error = RedisError::from((
                        ErrorKind::Client,
                        "unexpected number of pipeline replies",
                        format!("sent {expected}, got {}", values.len()),
                    ));
                    results.extend(chunk.map(|_| Sent::Failed(error.clone())));
                    *failure = Some(error);
                }
                Err(error) => {
                    let error = in_flight(address, timeout, error);
                    results.extend(chunk.map(|_| Sent::Failed(error.clone())));
                    *failure = Some(error);
                }
            }
        }
        results
    }

    /// Every argument in the batch's buffer, in one walk over it (it can only be walked):
    /// what [`command`](Self::command) and [`slot`](Self::slot) index into.
    fn arguments(&self) -> Vec<&[u8]> {
        self.args
            .args_iter()
            .map(|arg| match arg {
                Arg::Simple(bytes) => bytes,
                // The derive writes plain arguments only.
                _ => &[],
            })
            .collect()
    }

    /// The slot of invocation `member`'s first key; `None` for a script without keys.
    fn slot(&self, args: &[&[u8]], member: usize) -> Option<u16> {
        let entry = &self.entries[member];
        let own = args.get(entry.start..entry.end).unwrap_or_default();
        first_key_slot(own.iter().map(|&arg| Arg::Simple(arg)))
    }

    /// The command of invocation `member`, built from its arguments in `args` (the batch's
    /// argument buffer, walked once per run): `EVALSHA sha1 numkeys ...`, or `EVAL source
    /// numkeys ...` when `eval` (a function has no such form: `FCALL name numkeys ...`), with
    /// the `_RO` forms for read-only code.
    fn command(&self, args: &[&[u8]], member: usize, eval: bool) -> Cmd {
        let entry = &self.entries[member];
        let script = entry.script;
        let own = args.get(entry.start..entry.end).unwrap_or_default();
        let (name, code) = match (&script.function, eval, script.read_only) {
            (Some(function), _, false) => ("FCALL", function.function),
            (Some(function), _, true) => ("FCALL_RO", function.function),
            (None, false, false) => ("EVALSHA", script.sha1),
            (None, false, true) => ("EVALSHA_RO", script.sha1),
            (None, true, false) => ("EVAL", script.source),
            (None, true, true) => ("EVAL_RO", script.source),
        };
        let bytes: usize = own.iter().map(|arg| arg.len()).sum();
        let mut command = Cmd::with_capacity(2 + own.len(), name.len() + code.len() + bytes);
        command.arg(name).arg(code);
        for &arg in own {
            command.arg(arg);
        }
        command
    }

    /// The replies, each entry saying what is known of it: replied; not run (answered
    /// `NOSCRIPT` and not sent again, or never sent: no connection to its node, no primary for
    /// its slot, an earlier pipeline to the node failed, each an error of kind
    /// `ClusterConnectionNotFound` that only [`not_sent`] and the unserved slot give); or
    /// unknown (its pipeline failed in flight, or `EXEC` answered something unreadable).
    fn replies(&self, values: Vec<Result<Value, RedisError>>, not_run: Vec<bool>) -> Replies {
        let scripts = self
            .entries
            .iter()
            .map(|entry| Some(entry.script))
            .collect();
        let outcomes = values
            .iter()
            .zip(not_run)
            .map(|(value, not_run)| match value {
                _ if not_run => Outcome::NotRun,
                Ok(_) => Outcome::Replied,
                Err(error) if error.kind() == ErrorKind::ClusterConnectionNotFound => {
                    Outcome::NotRun
                }
                Err(_) => Outcome::Unknown,
            })
            .collect();
        Replies::with_outcomes(values, scripts, outcomes, false)
    }
}

/// The first round's groups, from the slot of each invocation: per slot, its invocations in
/// the order added; each invocation of a script without keys alone. Ordered by their first
/// member.
fn groups(slots: impl ExactSizeIterator<Item = (Option<u16>, bool)>) -> Vec<Group> {
    // Indexed by slot, not hashed: one lookup per invocation is most of this function's work.
    // A group is built only for a slot seen first. Sized for one group per invocation or per
    // slot, whichever is fewer; only keyless invocations, a group each, can make it grow.
    let mut by_slot: Vec<usize> = vec![usize::MAX; usize::from(SLOT_COUNT)];
    let mut groups: Vec<Group> = Vec::with_capacity(slots.len().min(usize::from(SLOT_COUNT)));
    for (index, (slot, plain)) in slots.enumerate() {
        let at = slot.and_then(|slot| by_slot.get_mut(usize::from(slot)));
        if let Some(at) = at {
            if let Some(group) = groups.get_mut(*at) {
                group.members.push(index);
                group.transaction |= !plain;
                continue;
            }
            *at = groups.len();
        }
        groups.push(Group {
            slot,
            members: Members::one(index),
            target: Target::BySlot,
            noscripts: 0,
            transaction: !plain,
        });
    }
    groups
}

/// The replies being written by the nodes' shares. Nothing panics while holding it, and what
/// it holds stays valid either way.
fn lock<'a, 'b>(
    replies: &'a Mutex<&'b mut [Result<Value, RedisError>]>,
) -> MutexGuard<'a, &'b mut [Result<Value, RedisError>]> {
    replies.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A group that was not sent goes by the refreshed slot map next time (its node may be gone).
fn retarget(group: Group) -> Group {
    Group {
        target: Target::BySlot,
        ..group
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

    /// A script of two keys and an argument, written by hand as the derive would.
    struct Pair<'a> {
        key: &'a str,
        other: &'a str,
        amount: i64,
    }

    impl Script for Pair<'_> {
        type Output = i64;
        const NAME: &'static str = "Pair";
        const PATH: &'static str = "lua/pair.lua";
        const SOURCE: &'static str = "return 1";
        const SHA1: &'static str = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
        const KEY_FIELDS: &'static [&'static str] = &["key", "other"];
        const ARG_FIELDS: &'static [&'static str] = &["amount"];
        const FLAGS: crate::ShebangFlags = crate::ShebangFlags::NONE;
        const KEY_TEMPLATES: &'static [Option<&'static str>] = &[None, None];
        const STANDALONE_ONLY: bool = false;

        fn write_keys_and_args(&self, command: &mut Cmd) {
            command
                .arg(2)
                .arg(self.key)
                .arg(self.other)
                .arg(self.amount);
        }
    }

    /// The same, read-only (`EVALSHA_RO`, `EVAL_RO`), and without keys.
    struct Count;

    impl Script for Count {
        type Output = i64;
        const NAME: &'static str = "Count";
        const PATH: &'static str = "lua/count.lua";
        const SOURCE: &'static str = "#!lua flags=no-writes\nreturn 2";
        const SHA1: &'static str = "ae33f9227913b24d053a555637f98260b23bd3a3";
        const KEY_FIELDS: &'static [&'static str] = &[];
        const ARG_FIELDS: &'static [&'static str] = &[];
        const FLAGS: crate::ShebangFlags = crate::ShebangFlags {
            no_writes: true,
            ..crate::ShebangFlags::NONE
        };
        const KEY_TEMPLATES: &'static [Option<&'static str>] = &[];
        const STANDALONE_ONLY: bool = false;

        fn write_keys_and_args(&self, command: &mut Cmd) {
            command.arg(0);
        }
    }

    #[test]
    fn commands_come_out_of_the_argument_buffer_as_single_calls_build_them() {
        let first = Pair {
            key: "{a}:1",
            other: "{a}:2",
            amount: -7,
        };
        let second = Pair {
            key: "user:9",
            other: "user:9:log",
            amount: 12_345,
        };
        let mut batch = ClusterBatch::new();
        batch.invoke(&first);
        batch.invoke(&Count);
        batch.invoke(&second);
        let args = batch.arguments();
        let packed = |command: Cmd| command.get_packed_command();
        let invocations: [(&dyn Fn() -> Cmd, &'static ScriptInfo); 3] = [
            (&|| first.evalsha_command(), ScriptInfo::of::<Pair>()),
            (&|| Count.evalsha_command(), ScriptInfo::of::<Count>()),
            (&|| second.evalsha_command(), ScriptInfo::of::<Pair>()),
        ];
        for (member, (evalsha, script)) in invocations.into_iter().enumerate() {
            assert_eq!(
                packed(batch.command(&args, member, false)),
                packed(evalsha())
            );
            assert_eq!(
                packed(batch.command(&args, member, true)),
                packed(crate::recover::eval_from_evalsha(script, &evalsha()))
            );
        }
        assert!(packed(batch.command(&args, 1, false)).starts_with(b"*3\r\n$10\r\nEVALSHA_RO"));
        assert_eq!(batch.slot(&args, 0), Some(hash_slot(b"a")));
        assert_eq!(batch.slot(&args, 1), None);
        assert_eq!(batch.slot(&args, 2), Some(hash_slot(b"user:9")));
        // Running it does not use it up: the same commands come out again.
        let again = batch.clone();
        assert_eq!(
            packed(again.command(&again.arguments(), 2, false)),
            packed(second.evalsha_command())
        );
    }

    #[test]
    fn first_key_slot_reads_evalsha_and_eval_commands() {
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha
            .arg("0146cf5abf2391640ada2991ba6f93ad1698fe70")
            .arg(1)
            .arg("{user1}:a");
        assert_eq!(
            first_key_slot(evalsha.args_iter().skip(2)),
            Some(hash_slot(b"user1"))
        );
        let mut command = redis::cmd("EVAL");
        command
            .arg("return 1")
            .arg(2)
            .arg("{user1}:a")
            .arg("{user1}:b")
            .arg("x");
        assert_eq!(
            first_key_slot(command.args_iter().skip(2)),
            Some(hash_slot(b"user1"))
        );
        let mut keyless = redis::cmd("EVAL");
        keyless.arg("return 1").arg(0).arg("x");
        assert_eq!(first_key_slot(keyless.args_iter().skip(2)), None);
    }

    fn error(text: &str) -> Value {
        Value::ServerError(parse_error(text))
    }

    fn refused(text: &str, slot: u16) -> Option<Refusal> {
        let error = parse_error(text);
        refusal(&error, Some(slot))
    }

    #[test]
    fn only_the_servers_exact_refusals_count() {
        let address = |text: &str| Address::parse(text).unwrap();
        assert_eq!(
            refused("MOVED 3999 127.0.0.1:6381", 3999),
            Some(Refusal::Moved(address("127.0.0.1:6381")))
        );
        assert_eq!(
            refused("ASK 3999 127.0.0.1:6382", 3999),
            Some(Refusal::Ask(address("127.0.0.1:6382")))
        );
        assert_eq!(refused("MOVED 3999 :6381", 3999), Some(Refusal::Redirect));
        for text in [
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "CLUSTERDOWN The cluster is down",
            "CLUSTERDOWN Hash slot not served",
            "LOADING Redis is loading the dataset in memory",
            "READONLY You can't write against a read only replica.",
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        ] {
            assert_eq!(refused(text, 1), Some(Refusal::Wait), "{text}");
        }
        // What a script can return or raise: not a refusal.
        for text in [
            "MOVED 4000 127.0.0.1:6381",
            "MOVED 3999 127.0.0.1:6381 extra",
            "MOVED 3999",
            "MOVED +3999 127.0.0.1:6381",
            "ASK 3999 127.0.0.1:port",
            "TRYAGAIN later",
            "TRYAGAIN",
            "LOADING",
            "READONLY You can't write against a read only replica. script: 897afd4d23ee70efe0ede1685c1c94834429da77, on @user_script:1.",
            "ERR boom",
        ] {
            assert_eq!(refused(text, 3999), None, "{text}");
        }
        let keyless = parse_error("MOVED 3999 127.0.0.1:6381");
        assert_eq!(refusal(&keyless, None), None);
    }

    /// Every refusal as Redis 7.0.15 and 8.2.3 word it (their binaries' reply strings).
    #[test]
    fn redis_wordings_are_refusals() {
        let address = |text: &str| Address::parse(text).unwrap();
        assert_eq!(
            refused("MOVED 3999 127.0.0.1:6381", 3999),
            Some(Refusal::Moved(address("127.0.0.1:6381")))
        );
        assert_eq!(
            refused("ASK 3999 127.0.0.1:6381", 3999),
            Some(Refusal::Ask(address("127.0.0.1:6381")))
        );
        for text in [
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "CLUSTERDOWN The cluster is down",
            "CLUSTERDOWN Hash slot not served",
            "CLUSTERDOWN The cluster is down and only accepts read commands",
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.",
            "LOADING Redis is loading the dataset in memory",
            "READONLY You can't write against a read only replica.",
            "READONLY Can not run script with write flag on readonly replica",
        ] {
            assert_eq!(refused(text, 3999), Some(Refusal::Wait), "{text}");
        }
    }

    /// Every refusal as Valkey 8.1.8, 9.0.0 and 9.1.2 word it (their binaries' reply strings;
    /// `LOADING` also seen from a Valkey 8.1.8 loading a 100,000-key RDB): the same as Redis's
    /// but for `LOADING`, which names the server.
    #[test]
    fn valkey_wordings_are_refusals() {
        let address = |text: &str| Address::parse(text).unwrap();
        assert_eq!(
            refused("MOVED 3999 127.0.0.1:6381", 3999),
            Some(Refusal::Moved(address("127.0.0.1:6381")))
        );
        assert_eq!(
            refused("ASK 3999 127.0.0.1:6381", 3999),
            Some(Refusal::Ask(address("127.0.0.1:6381")))
        );
        for text in [
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "CLUSTERDOWN The cluster is down",
            "CLUSTERDOWN Hash slot not served",
            "CLUSTERDOWN The cluster is down and only accepts read commands",
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.",
            "LOADING Valkey is loading the dataset in memory",
            "READONLY You can't write against a read only replica.",
            "READONLY Can not run script with write flag on readonly replica",
        ] {
            assert_eq!(refused(text, 3999), Some(Refusal::Wait), "{text}");
        }
        // A `LOADING` refusal in a server's wording is one; a script's look-alike is not.
        assert_eq!(refused("LOADING Valkey is loading", 3999), None);
    }

    /// A group sent alone or as one transaction, whatever its size.
    fn group(members: Vec<usize>, target: Target) -> Group {
        Group {
            transaction: true,
            ..plain_group(members, target)
        }
    }

    /// A group of scripts that go in waves when it is small.
    fn plain_group(members: Vec<usize>, target: Target) -> Group {
        Group {
            slot: Some(7),
            members: members.into(),
            target,
            noscripts: 0,
            transaction: false,
        }
    }

    fn values(replies: &[Result<Value, RedisError>]) -> Vec<Value> {
        replies
            .iter()
            .map(|reply| reply.clone().unwrap_or(Value::Nil))
            .collect()
    }

    #[test]
    fn a_single_invocation_is_sent_again_only_on_a_refusal() {
        let mut replies = vec![Ok(Value::Nil); 1];
        let single = group(vec![0], Target::BySlot);
        assert_eq!(
            settle(&single, vec![Value::Int(1)], &mut replies),
            Next::Done
        );
        assert_eq!(values(&replies), [Value::Int(1)]);
        let tryagain = error("TRYAGAIN Multiple keys request during rehashing of slot");
        assert_eq!(
            settle(&single, vec![tryagain], &mut replies),
            Next::Again {
                target: Target::BySlot,
                wait: true
            }
        );
        let asked = group(
            vec![0],
            Target::Ask(Box::new(Address::parse("h:1").unwrap())),
        );
        let moved = error("MOVED 7 h:2");
        assert_eq!(
            settle(&asked, vec![Value::Okay, moved], &mut replies),
            Next::Again {
                target: Target::Moved(Box::new(Address::parse("h:2").unwrap())),
                wait: false
            }
        );
        let own = error("TRYAGAIN the script's own words");
        assert_eq!(settle(&single, vec![own.clone()], &mut replies), Next::Done);
        assert_eq!(values(&replies), [own]);
    }

    #[test]
    fn a_group_runs_whole_or_is_sent_again_whole() {
        let queued = || Value::SimpleString("QUEUED".into());
        let abort = error("EXECABORT Transaction discarded because of previous errors.");
        let mut replies = vec![Ok(Value::Nil); 3];
        let three = group(vec![0, 1, 2], Target::BySlot);

        // It ran: EXEC's reply holds each reply, a script's TRYAGAIN included.
        let own = error("TRYAGAIN Multiple keys request during rehashing of slot");
        let exec = Value::Array(vec![Value::Int(1), own.clone(), Value::Int(3)]);
        let ran = vec![Value::Okay, queued(), queued(), queued(), exec];
        assert_eq!(settle(&three, ran, &mut replies), Next::Done);
        assert_eq!(values(&replies), [Value::Int(1), own, Value::Int(3)]);

        // The second was refused while queueing: none ran, all go again, in order.
        let tryagain = error("TRYAGAIN Multiple keys request during rehashing of slot");
        let refused = vec![
            Value::Okay,
            queued(),
            tryagain.clone(),
            queued(),
            abort.clone(),
        ];
        assert_eq!(
            settle(&three, refused, &mut replies),
            Next::Again {
                target: Target::BySlot,
                wait: true
            }
        );
        assert_eq!(values(&replies), [abort.clone(), tryagain, abort.clone()]);

        // All asked to one node: go there, with ASKING.
        let ask = || error("ASK 7 h:9");
        let asked = vec![Value::Okay, ask(), ask(), ask(), abort.clone()];
        assert_eq!(
            settle(&three, asked, &mut replies),
            Next::Again {
                target: Target::Ask(Box::new(Address::parse("h:9").unwrap())),
                wait: false
            }
        );
        // Some asked, some queued: the slot's keys are on both sides; wait for the migration.
        let split = vec![Value::Okay, ask(), queued(), ask(), abort.clone()];
        assert_eq!(
            settle(&three, split, &mut replies),
            Next::Again {
                target: Target::BySlot,
                wait: true
            }
        );

        // Refused at EXEC (keys split by a migration): none ran.
        let at_exec = vec![
            Value::Okay,
            queued(),
            queued(),
            queued(),
            error("MOVED 7 h:3"),
        ];
        assert_eq!(
            settle(&three, at_exec, &mut replies),
            Next::Again {
                target: Target::Moved(Box::new(Address::parse("h:3").unwrap())),
                wait: false
            }
        );
        let loading = error(
            "EXECABORT Transaction discarded because of: LOADING Redis is loading the dataset in memory",
        );
        let at_exec = vec![Value::Okay, queued(), queued(), queued(), loading];
        assert!(matches!(
            settle(&three, at_exec, &mut replies),
            Next::Again { wait: true, .. }
        ));

        // Refused for another reason: final; nothing ran, and each reply says so.
        let oom = error("OOM command not allowed when used memory > 'maxmemory'.");
        let refused = vec![Value::Okay, queued(), oom.clone(), queued(), abort.clone()];
        assert_eq!(settle(&three, refused, &mut replies), Next::Done);
        assert_eq!(values(&replies), [abort.clone(), oom, abort]);
    }

    #[test]
    fn noscript_in_a_group_resends_the_trailing_run_and_reports_the_rest() {
        let noscript = || error("NOSCRIPT No matching script. Please use EVAL.");
        let queued = || Value::SimpleString("QUEUED".into());
        let four = group(vec![0, 1, 2, 3], Target::BySlot);
        let mut replies = vec![Ok(Value::Nil); 4];
        let mut not_run = vec![false; 4];
        let sha1s = |member: usize| (false, if member == 3 { "b" } else { "a" });
        let missed = |_: usize, value: &Value| is_noscript_value(value);
        // A flush before EXEC: every member NOSCRIPT, nothing ran: all go again, in order.
        let exec = Value::Array(vec![noscript(), noscript(), noscript(), noscript()]);
        let mut sent = vec![Value::Okay, queued(), queued(), queued(), queued(), exec];
        let mut scripts = Scripts {
            keys: &sha1s,
            missed: &missed,
            failed_loads: &[],
            not_run: &mut not_run,
        };
        assert_eq!(
            settle_scripts(&four, sent.clone(), &mut replies, &mut scripts),
            Next::Reload(vec![0, 1, 2, 3])
        );
        // Member 1 missing, member 2 ran (its script reloaded by someone else in between),
        // members 3 missing: 3 goes again, 1 did not run.
        let exec = Value::Array(vec![Value::Int(1), noscript(), Value::Int(2), noscript()]);
        sent[5] = exec;
        assert_eq!(
            settle_scripts(&four, sent.clone(), &mut replies, &mut scripts),
            Next::Reload(vec![3])
        );
        assert_eq!(scripts.not_run, [false, true, false, false]);
        // A failed load of b: member 3 is final, with the load's error.
        let oom = error("OOM command not allowed when used memory > 'maxmemory'.");
        let failed = [((false, "b"), oom.clone())];
        let mut not_run = vec![false; 4];
        let mut scripts = Scripts {
            keys: &sha1s,
            missed: &missed,
            failed_loads: &failed,
            not_run: &mut not_run,
        };
        assert_eq!(
            settle_scripts(&four, sent, &mut replies, &mut scripts),
            Next::Done
        );
        assert_eq!(replies[3].as_ref().ok(), Some(&oom));
        assert_eq!(not_run, [false, true, false, true]);
        // Alone: NOSCRIPT goes again.
        let single = group(vec![0], Target::BySlot);
        assert_eq!(
            settle(&single, vec![noscript()], &mut replies),
            Next::Reload(vec![0])
        );
    }

    #[test]
    fn small_slots_go_in_waves_and_large_ones_as_transactions() {
        let sized = |n: usize| plain_group((0..n).collect(), Target::BySlot);
        assert!(!sized(1).waves() && !sized(1).atomic());
        for n in 2..=WAVE_LIMIT {
            assert!(sized(n).waves() && !sized(n).atomic(), "{n}");
        }
        assert!(!sized(WAVE_LIMIT + 1).waves() && sized(WAVE_LIMIT + 1).atomic());
        let forced = Group {
            transaction: true,
            ..sized(2)
        };
        assert!(!forced.waves() && forced.atomic());
        let asked = plain_group(
            vec![0, 1],
            Target::Ask(Box::new(Address::parse("h:1").unwrap())),
        );
        assert!(!asked.waves() && asked.atomic());
    }

    /// Settles a group of three members sent in waves; returns whether the connection broke
    /// and what goes again.
    fn settle_three(
        answered: Vec<Value>,
        last: Option<Sent>,
        replies: &mut [Result<Value, RedisError>],
    ) -> (bool, Vec<Again>) {
        let mut again = Vec::new();
        let three = plain_group(vec![0, 1, 2], Target::BySlot);
        let broken = settle_waves(
            three,
            0,
            answered,
            last,
            replies,
            &mut Scripts::none(),
            &mut again,
        );
        (broken, again)
    }

    fn members(again: &[Again]) -> Vec<Vec<usize>> {
        again
            .iter()
            .map(|again| again.group.members.to_vec())
            .collect()
    }

    #[test]
    fn a_refused_wave_holds_back_the_rest_of_its_slot() {
        let mut replies = vec![Ok(Value::Nil); 3];
        let ran = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
        let (broken, again) = settle_three(ran, None, &mut replies);
        assert!(!broken && again.is_empty());
        assert_eq!(
            values(&replies),
            [Value::Int(1), Value::Int(2), Value::Int(3)]
        );

        // The second refused: it and the third (never sent) go again, in order, after a pause.
        let tryagain = error("TRYAGAIN Multiple keys request during rehashing of slot");
        let (_, again) = settle_three(vec![Value::Int(1), tryagain.clone()], None, &mut replies);
        assert_eq!(members(&again), [vec![1, 2]]);
        assert!(again[0].wait && again[0].group.target == Target::BySlot);
        assert_eq!(replies[1].as_ref().ok(), Some(&tryagain));
        let held = replies[2].as_ref().expect_err("not sent");
        assert_eq!(held.kind(), ErrorKind::ClusterConnectionNotFound);

        // `MOVED`: the rest follows, in waves.
        let moved = error("MOVED 7 h:2");
        let (_, again) = settle_three(vec![moved], None, &mut replies);
        assert_eq!(members(&again), [vec![0, 1, 2]]);
        assert_eq!(
            again[0].group.target,
            Target::Moved(Box::new(Address::parse("h:2").unwrap()))
        );
        assert!(again[0].group.waves());

        // `ASK` with more after it: one transaction at the slot's owner, which tells whether
        // every member's keys have left.
        let ask = error("ASK 7 h:9");
        let (_, again) = settle_three(vec![Value::Int(1), ask.clone()], None, &mut replies);
        assert_eq!(members(&again), [vec![1, 2]]);
        assert!(again[0].group.atomic() && again[0].group.target == Target::BySlot);
        // `ASK` for the last: it alone goes there, with `ASKING`.
        let (_, again) = settle_three(vec![Value::Int(1), Value::Int(2), ask], None, &mut replies);
        assert_eq!(members(&again), [vec![2]]);
        assert_eq!(
            again[0].group.target,
            Target::Ask(Box::new(Address::parse("h:9").unwrap()))
        );

        // `NOSCRIPT`: it and the rest go again after a load, counted.
        let noscript = error("NOSCRIPT No matching script. Please use EVAL.");
        let (_, again) = settle_three(vec![Value::Int(1), noscript], None, &mut replies);
        assert_eq!(members(&again), [vec![1, 2]]);
        assert!(!again[0].wait && !again[0].stale && again[0].group.noscripts == 1);
    }

    /// Compiled, never run: a batch can be run from a spawned task (the replies being written
    /// are behind a `Mutex`, never held across an `await`).
    #[allow(dead_code)]
    fn running_a_batch_is_send(batch: &ClusterBatch, nodes: &mut ClusterNodes) {
        fn send<T: Send>(_: T) {}
        send(batch.run_async(nodes));
    }

    #[test]
    fn members_answered_with_plain_replies_are_counted_not_settled_again() {
        let settle = |settled, answered, last, replies: &mut [Result<Value, RedisError>]| {
            let mut again = Vec::new();
            let three = plain_group(vec![0, 1, 2], Target::BySlot);
            let scripts = &mut Scripts::none();
            let broken = settle_waves(three, settled, answered, last, replies, scripts, &mut again);
            (broken, again)
        };
        // The first member's reply went straight to the replies; the second was refused.
        let mut replies = vec![Ok(Value::Int(1)), Ok(Value::Nil), Ok(Value::Nil)];
        let tryagain = error("TRYAGAIN Multiple keys request during rehashing of slot");
        let (broken, again) = settle(1, vec![tryagain.clone()], None, &mut replies);
        assert!(!broken);
        assert_eq!(members(&again), [vec![1, 2]]);
        assert_eq!(replies[0].as_ref().ok(), Some(&Value::Int(1)));
        assert_eq!(replies[1].as_ref().ok(), Some(&tryagain));
        assert!(replies[2].is_err());

        // Two settled, the third in flight when the pipeline failed: nothing goes again.
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let mut replies = vec![Ok(Value::Int(1)), Ok(Value::Int(2)), Ok(Value::Nil)];
        let (broken, again) = settle(2, Vec::new(), Some(Sent::Failed(io)), &mut replies);
        assert!(broken && again.is_empty());
        assert_eq!(values(&replies[..2]), [Value::Int(1), Value::Int(2)]);
        assert!(replies[2].as_ref().expect_err("in flight").is_io_error());

        // All three settled: nothing to do.
        let mut replies = vec![Ok(Value::Int(1)), Ok(Value::Int(2)), Ok(Value::Int(3))];
        let (broken, again) = settle(3, Vec::new(), None, &mut replies);
        assert!(!broken && again.is_empty());
        assert_eq!(
            values(&replies),
            [Value::Int(1), Value::Int(2), Value::Int(3)]
        );
    }

    #[test]
    fn a_wave_in_flight_when_its_pipeline_fails_stops_its_slot() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let mut replies = vec![Ok(Value::Nil); 3];
        // The second was in flight: it may have run; the third must not run before it.
        let (broken, again) = settle_three(
            vec![Value::Int(1)],
            Some(Sent::Failed(io.clone())),
            &mut replies,
        );
        assert!(broken && again.is_empty());
        assert_eq!(replies[0].as_ref().ok(), Some(&Value::Int(1)));
        assert!(replies[1].as_ref().expect_err("in flight").is_io_error());
        let held = replies[2].as_ref().expect_err("not sent");
        assert!(!held.is_io_error() && held.to_string().contains("may have run"));

        // The second was not sent (an earlier pipeline failed): the rest goes again.
        let skipped = not_sent(&Address::parse("h:1").unwrap(), "test", &io);
        let (broken, again) = settle_three(
            vec![Value::Int(1)],
            Some(Sent::Skipped(skipped)),
            &mut replies,
        );
        assert!(!broken);
        assert_eq!(members(&again), [vec![1, 2]]);
    }

    #[test]
    fn a_group_with_a_script_that_may_word_its_errors_goes_as_one_transaction() {
        let groups = groups(
            [
                (Some(1), true),
                (Some(1), false),
                (Some(2), true),
                (Some(2), true),
            ]
            .into_iter(),
        );
        assert!(groups[0].atomic() && groups[1].waves());
    }

    #[test]
    fn an_error_in_flight_says_the_invocation_may_have_run() {
        let address = Address::parse("h:1").unwrap();
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let error = in_flight(&address, Some(Duration::from_secs(15)), timeout);
        assert!(error.is_io_error() && error.is_timeout());
        assert!(error.to_string().contains("may have run"), "{error}");
        assert!(error.to_string().contains("15s"), "{error}");
        let reset = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let error = in_flight(&address, None, reset);
        assert!(error.is_io_error() && error.to_string().contains("may have run"));
        let other = RedisError::from((ErrorKind::Client, "other"));
        assert_eq!(in_flight(&address, None, other).kind(), ErrorKind::Client);
    }

    #[test]
    fn pauses_grow_and_stay_bounded() {
        let retry = Retry::default();
        let pauses: Vec<Duration> = (0..8).map(|n| retry.pause(n)).collect();
        assert_eq!(pauses[0], Duration::from_millis(20));
        assert!(pauses.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(retry.pause(u32::MAX), Duration::from_secs(1));
        let total: Duration = (0..MAX_ROUNDS as u32 - 1).map(|n| retry.pause(n)).sum();
        assert!(total < Duration::from_secs(3), "{total:?}");
    }

    #[test]
    fn groups_gather_each_slot_in_the_order_added() {
        let slots = [
            Some(1),
            Some(2),
            Some(1),
            None,
            Some(3),
            Some(2),
            None,
            Some(1),
        ];
        let groups: Vec<Vec<usize>> = groups(slots.into_iter().map(|slot| (slot, true)))
            .into_iter()
            .map(|group| group.members.to_vec())
            .collect();
        assert_eq!(
            groups,
            [vec![0, 2, 7], vec![1, 5], vec![3], vec![4], vec![6]]
        );
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
