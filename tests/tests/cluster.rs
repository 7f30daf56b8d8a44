//! Scripts on a real 6-node Redis Cluster (3 primaries, 3 replicas), from `throwaway-redis`.
//!
//! Tests that leave the cluster as they found it share one cluster per test binary; tests that
//! kill nodes start their own.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use redis::cluster::ClusterClientBuilder;
use redis::cluster_read_routing::RandomReplicaStrategy;
use redis_script::cluster::{self, ScriptSource};
use redis_script::{Error, RedisScript, Script};
use redis_script_analysis::{hash_slot, hash_tag};
use throwaway_redis::{ClusterNode, RedisCluster, RedisServer};

/// Moves `amount` between two accounts of one bank: both keys carry the hash tag `{bank:..}`.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster_transfer.lua", returns = (i64, i64))]
struct Transfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    from: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    to: &'a str,
    #[arg]
    amount: i64,
}

/// Counts invocations and logs their ids; the template tag is a template parameter.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster_counter_log.lua", returns = i64)]
struct CounterLog<'a> {
    group: &'a str,
    #[key("{{{group}}}:{}")]
    counter: &'a str,
    #[key("{{{group}}}:{}")]
    log: &'a str,
    #[arg]
    id: u64,
}

/// A `no-writes` script: `EVALSHA_RO`, may be served by a replica.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster_read.lua", returns = Option<String>)]
struct Read<'a> {
    #[key]
    key: &'a str,
}

/// A variadic templated key: every entry shares the tag `{cart:<user>}`.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster_sum.lua", returns = i64)]
struct SumCart<'a> {
    user: u32,
    #[key("{{cart:{user}}}:item:{}", variadic)]
    items: Vec<&'a str>,
}

/// A keyless script that is not `no-writes`: replicas refuse it.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster_role.lua", returns = String)]
struct Role;

const SCRIPTS: &[ScriptSource] = &[
    ScriptSource::of::<Transfer<'static>>(),
    ScriptSource::of::<CounterLog<'static>>(),
    ScriptSource::of::<Read<'static>>(),
    ScriptSource::of::<SumCart<'static>>(),
    ScriptSource::of::<Role>(),
];

/// The cluster shared by the tests that do not kill nodes, one test at a time: several count
/// the commands the nodes ran (`INFO commandstats`) or flush their script caches.
fn shared() -> (MutexGuard<'static, ()>, &'static RedisCluster) {
    static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let cluster =
        CLUSTER.get_or_init(|| RedisCluster::start().expect("start a 6-node redis cluster"));
    (guard, cluster)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `cmdstat_<command>` of one node: how often it ran (`calls`, failures included), how often
/// it failed while running (`failed_calls`, a subset of `calls`) and how often it was refused
/// before running (`rejected_calls`: `CROSSSLOT`, `MOVED`, `READONLY`, a wrong arity...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct CommandStats {
    calls: u64,
    failed_calls: u64,
    rejected_calls: u64,
}

fn command_stats(node: &ClusterNode, command: &str) -> CommandStats {
    let mut connection = node.connection().expect("connect to a node");
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut connection)
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{command}:");
    let Some(fields) = info.lines().find_map(|line| line.strip_prefix(&prefix)) else {
        return CommandStats::default();
    };
    let field = |name: &str| -> u64 {
        fields
            .split(',')
            .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            .map(|value| value.parse().expect("a count in INFO commandstats"))
            .unwrap_or(0)
    };
    CommandStats {
        calls: field("calls"),
        failed_calls: field("failed_calls"),
        rejected_calls: field("rejected_calls"),
    }
}

/// How many times `command` reached the node, whether it ran (`calls`, which already counts
/// the failed ones) or was refused before running (`rejected_calls`).
fn command_calls(node: &ClusterNode, command: &str) -> u64 {
    let stats = command_stats(node, command);
    stats.calls + stats.rejected_calls
}

const SCRIPT_COMMANDS: [&str; 4] = ["evalsha", "eval", "evalsha_ro", "eval_ro"];

/// The script-related command stats of every live node, all three counts.
fn script_calls(cluster: &RedisCluster) -> BTreeMap<(u16, &'static str), CommandStats> {
    script_calls_on(cluster.nodes().iter().filter(|node| node.is_alive()))
}

fn script_calls_on<'a>(
    nodes: impl IntoIterator<Item = &'a ClusterNode>,
) -> BTreeMap<(u16, &'static str), CommandStats> {
    let mut calls = BTreeMap::new();
    for node in nodes {
        for command in SCRIPT_COMMANDS {
            calls.insert((node.port(), command), command_stats(node, command));
        }
    }
    calls
}

fn get(cluster: &RedisCluster, key: &str) -> Option<String> {
    let node = cluster
        .node_for_slot(hash_slot(key.as_bytes()))
        .expect("the node of a slot");
    redis::cmd("GET")
        .arg(key)
        .query(&mut node.connection().expect("connect"))
        .expect("GET")
}

fn log_of(cluster: &RedisCluster, key: &str) -> Vec<u64> {
    let node = cluster
        .node_for_slot(hash_slot(key.as_bytes()))
        .expect("the node of a slot");
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(&mut node.connection().expect("connect"))
        .expect("LRANGE")
}

/// Every id in `expected` exactly once in the log, and nothing else.
fn assert_applied_exactly_once(log: &[u64], expected: impl IntoIterator<Item = u64>) {
    let mut seen = HashSet::new();
    let duplicates: Vec<u64> = log.iter().copied().filter(|id| !seen.insert(*id)).collect();
    assert!(duplicates.is_empty(), "applied twice: {duplicates:?}");
    let expected: HashSet<u64> = expected.into_iter().collect();
    let missing: Vec<&u64> = expected.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    let extra: Vec<&u64> = seen.iter().filter(|id| !expected.contains(*id)).collect();
    assert!(extra.is_empty(), "applied but not expected: {extra:?}");
}

// ---------------------------------------------------------------------------------------------
// 1. The slot function against CLUSTER KEYSLOT.

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Keys(u64);

impl Keys {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Keys made of pieces that stress the hash-tag rule.
    fn key(&mut self) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"{",
            b"}",
            b"{}",
            b"{{",
            b"}}",
            b"a",
            b"b",
            b"user:",
            b"1000",
            b":",
            b"\xc3\xa9",
            "日本".as_bytes(),
            "🦀".as_bytes(),
            b"\x00",
            b"\xff",
            b"\xfe{",
            b" ",
            b"\r\n",
        ];
        let length = self.next() % 8;
        let mut key = Vec::new();
        for _ in 0..length {
            if self.next().is_multiple_of(5) {
                key.push((self.next() % 256) as u8);
            } else {
                key.extend_from_slice(PIECES[(self.next() % PIECES.len() as u64) as usize]);
            }
        }
        key
    }
}

#[test]
fn hash_slot_equals_cluster_keyslot() {
    let (_one_at_a_time, cluster) = shared();
    let mut connection = cluster.nodes()[0].connection().expect("connect");
    let mut keys: Vec<Vec<u8>> = [
        "",
        "{",
        "}",
        "{}",
        "{}a",
        "{{a}}",
        "a{b}c{d}",
        "}{a}",
        "{a",
        "a}",
        "{}{a}",
        "{{}}",
        "foo",
        "{user:1000}.following",
        "日本{語}",
        "🦀",
    ]
    .iter()
    .map(|key| key.as_bytes().to_vec())
    .collect();
    keys.extend([b"\x00{\xff}".to_vec(), b"\xff\xfe".to_vec(), vec![0; 40]]);
    // 10,000 distinct generated keys (short ones repeat), in the order generated.
    let mut generator = Keys(0x9e37_79b9_7f4a_7c15);
    let mut distinct = HashSet::new();
    let generated: Vec<Vec<u8>> = std::iter::repeat_with(|| generator.key())
        .take(100_000)
        .filter(|key| distinct.insert(key.clone()))
        .take(10_000)
        .collect();
    assert_eq!(generated.len(), 10_000, "the generator repeats itself");
    // Each kind of key that the hash-tag rule treats specially is well represented among
    // them, so that the comparison below covers it.
    let count = |kind: &dyn Fn(&[u8]) -> bool| generated.iter().filter(|key| kind(key)).count();
    let has = |key: &[u8], piece: &[u8]| key.windows(piece.len()).any(|window| window == piece);
    let kinds: [(&str, usize); 7] = [
        ("a tag", count(&|key| hash_tag(key) != key)),
        (
            "an empty tag",
            count(&|key| has(key, b"{}") && hash_tag(key) == key),
        ),
        (
            "a `}` before any `{`",
            count(&|key| {
                let close = key.iter().position(|&b| b == b'}');
                let open = key.iter().position(|&b| b == b'{');
                matches!(close, Some(close) if open.is_none_or(|open| close < open))
            }),
        ),
        (
            "`{` inside the tag",
            count(&|key| hash_tag(key).contains(&b'{')),
        ),
        ("not UTF-8", count(&|key| std::str::from_utf8(key).is_err())),
        (
            "multibyte UTF-8",
            count(&|key| {
                std::str::from_utf8(key).is_ok_and(|text| text.chars().any(|c| c.len_utf8() > 1))
            }),
        ),
        ("a NUL byte", count(&|key| key.contains(&0))),
    ];
    for (kind, count) in kinds {
        assert!(count >= 100, "only {count} generated keys with {kind}");
    }
    keys.extend(generated);

    for chunk in keys.chunks(1000) {
        let mut pipeline = redis::pipe();
        for key in chunk {
            pipeline.cmd("CLUSTER").arg("KEYSLOT").arg(key);
        }
        let slots: Vec<u16> = pipeline.query(&mut connection).expect("CLUSTER KEYSLOT");
        for (key, slot) in chunk.iter().zip(slots) {
            assert_eq!(
                hash_slot(key),
                slot,
                "key {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Co-located scripts, and the runtime slot guard.

fn seed(connection: &mut impl redis::ConnectionLike, pairs: &[(&str, i64)]) {
    for (key, value) in pairs {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .exec(connection)
            .expect("SET");
    }
}

#[test]
fn co_located_scripts_run_on_the_cluster_sync() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("cluster connection");
    seed(
        &mut connection,
        &[("{bank:sync}:acct:alice", 100), ("{bank:sync}:acct:bob", 5)],
    );

    let slot = hash_slot(b"bank:sync");
    let owner = cluster.node_for_slot(slot).expect("the tag's node").port();
    assert_loaded_everywhere(&cluster::load_all(&mut connection, SCRIPTS).expect("load"));
    let before = script_calls(cluster);
    let transfer = Transfer {
        bank: "sync",
        from: "alice",
        to: "bob",
        amount: 30,
    };
    assert_eq!(
        transfer.invoke(&mut connection).expect("generic invoke"),
        (70, 35)
    );
    assert_eq!(
        cluster::invoke(&transfer, &mut connection).expect("cluster::invoke"),
        (40, 65)
    );
    assert_eq!(
        get(cluster, "{bank:sync}:acct:alice").as_deref(),
        Some("40")
    );
    assert_eq!(get(cluster, "{bank:sync}:acct:bob").as_deref(), Some("65"));
    // The keys' node ran both, as EVALSHA (the scripts were loaded); no other node, primary or
    // replica, was sent anything of it.
    let after = script_calls(cluster);
    let delta = |port: u16, command: &'static str| {
        let (after, before) = (after[&(port, command)], before[&(port, command)]);
        after.calls + after.rejected_calls - before.calls - before.rejected_calls
    };
    assert_eq!((delta(owner, "evalsha"), delta(owner, "eval")), (2, 0));
    for node in cluster.nodes().iter().filter(|node| node.port() != owner) {
        for command in SCRIPT_COMMANDS {
            assert_eq!(
                delta(node.port(), command),
                0,
                "{command} on {}",
                node.port()
            );
        }
    }

    seed(
        &mut connection,
        &[
            ("{cart:7}:item:apple", 3),
            ("{cart:7}:item:pear", 4),
            ("{cart:7}:item:fig", 5),
        ],
    );
    let cart = SumCart {
        user: 7,
        items: vec!["apple", "pear", "fig", "none"],
    };
    assert_eq!(
        cart.invoke(&mut connection)
            .expect("variadic templated keys"),
        12
    );
}

#[test]
fn co_located_scripts_run_on_the_cluster_async() {
    let (_one_at_a_time, cluster) = shared();
    runtime().block_on(async {
        let client = cluster.client().expect("cluster client");
        let mut connection = client
            .get_async_connection()
            .await
            .expect("async connection");
        for (key, value) in [
            ("{bank:async}:acct:alice", 100),
            ("{bank:async}:acct:bob", 0),
        ] {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .exec_async(&mut connection)
                .await
                .expect("SET");
        }
        let transfer = Transfer {
            bank: "async",
            from: "alice",
            to: "bob",
            amount: 25,
        };
        let generic = transfer
            .invoke_async(&mut connection)
            .await
            .expect("invoke_async");
        assert_eq!(generic, (75, 25));
        let routed = cluster::invoke_async(&transfer, &mut connection)
            .await
            .expect("routed");
        assert_eq!(routed, (50, 50));
        let cart = SumCart {
            user: 8,
            items: vec!["a", "b"],
        };
        assert_eq!(
            cart.invoke_async(&mut connection).await.expect("variadic"),
            0
        );
    });
    assert_eq!(get(cluster, "{bank:async}:acct:bob").as_deref(), Some("50"));
}

#[test]
fn cross_slot_invocation_is_refused_before_any_io() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("cluster connection");
    // An empty group empties the tag `{{{group}}}`: `{}:counter` and `{}:log` are hashed whole.
    // So does a group with a `}`: `{}}:counter`.
    for group in ["", "}"] {
        let script = CounterLog {
            group,
            counter: "counter",
            log: "log",
            id: 1,
        };
        let counter = format!("{{{group}}}:counter");
        let log = format!("{{{group}}}:log");
        let expected = vec![
            (counter.clone().into_bytes(), hash_slot(counter.as_bytes())),
            (log.clone().into_bytes(), hash_slot(log.as_bytes())),
        ];
        assert_ne!(expected[0].1, expected[1].1);

        let before = script_calls(cluster);
        let error = script.invoke(&mut connection).expect_err("cross-slot keys");
        let Error::CrossSlot {
            script: name,
            keys_and_slots,
        } = &error
        else {
            panic!("expected Error::CrossSlot, got {error:?}");
        };
        assert_eq!((*name, keys_and_slots), ("CounterLog", &expected));
        assert!(error.to_string().contains("CROSSSLOT"), "{error}");
        let routed = cluster::invoke(&script, &mut connection).expect_err("cross-slot keys");
        assert!(matches!(routed, Error::CrossSlot { .. }), "{routed:?}");
        let waited = script
            .invoke_and_wait(&mut connection, 1, Duration::from_millis(10))
            .expect_err("cross-slot keys");
        assert!(matches!(waited, Error::CrossSlot { .. }), "{waited:?}");
        runtime().block_on(async {
            let mut connection = client
                .get_async_connection()
                .await
                .expect("async connection");
            let error = script
                .invoke_async(&mut connection)
                .await
                .expect_err("cross-slot");
            assert!(matches!(error, Error::CrossSlot { .. }), "{error:?}");
            let error = cluster::invoke_async(&script, &mut connection)
                .await
                .expect_err("x");
            assert!(matches!(error, Error::CrossSlot { .. }), "{error:?}");
        });
        // Nothing reached any node: no EVALSHA, EVAL or their _RO forms anywhere, neither run
        // (`calls`, `failed_calls`) nor refused by the node (`rejected_calls`, which is where a
        // CROSSSLOT or MOVED from a node would show).
        assert_eq!(
            script_calls(cluster),
            before,
            "the guard must refuse before any I/O"
        );
        assert_eq!(get(cluster, &counter), None);
    }
}

/// What Redis 7.0 does with keys of several slots inside a script, with no `#!` line, with
/// `#!lua`, and with `#!lua flags=allow-cross-slot-keys`: each row of the table in the docs of
/// `redis_script_analysis::slot_proof`, as plain `EVAL` on one primary.
#[test]
fn allow_cross_slot_keys_rows_as_documented() {
    let (_one_at_a_time, cluster) = shared();
    let port_of = |key: &str| {
        cluster
            .node_for_slot(hash_slot(key.as_bytes()))
            .expect("the node of a slot")
            .port()
    };
    let candidates = || (0..).map(|i| format!("cross-slot-rows:{i}"));
    let here = "cross-slot-rows:here".to_owned();
    let node = cluster
        .node_for_slot(hash_slot(here.as_bytes()))
        .expect("the node of a slot");
    let same_node = candidates()
        .find(|key| {
            port_of(key) == node.port() && hash_slot(key.as_bytes()) != hash_slot(here.as_bytes())
        })
        .expect("another slot of the same node");
    let other_node = candidates()
        .find(|key| port_of(key) != node.port())
        .expect("a key on another node");
    let mut connection = node.connection().expect("connect to the node");
    let mut outcome = |script: &str, keys: &[&str], args: &[&str]| -> String {
        let mut eval = redis::cmd("EVAL");
        eval.arg(script).arg(keys.len()).arg(keys).arg(args);
        match eval.query::<redis::Value>(&mut connection) {
            Ok(redis::Value::Okay) => "OK".to_owned(),
            Ok(other) => format!("{other:?}"),
            Err(error) => {
                let text = format!(
                    "{} {}",
                    error.code().unwrap_or("?"),
                    error.detail().unwrap_or("")
                );
                // "... script: <sha1>, on @user_script:<line>." names the script, not the case.
                text.split(" script: ")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            }
        }
    };
    const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
    const OTHER_SLOT: &str =
        "ERR Script attempted to access keys that do not hash to the same slot";
    const NON_LOCAL: &str = "ERR Script attempted to access a non local key in a cluster node";
    const OK: &str = "OK";
    // One call whose own keys span two slots of the node: Redis 7.0 calls them non-local,
    // Valkey names the command and the slots.
    let one_call_two_slots = match throwaway_redis::server_version()
        .expect("the server binary")
        .kind
    {
        throwaway_redis::ServerKind::Redis => NON_LOCAL,
        throwaway_redis::ServerKind::Valkey => {
            "ERR Command 'mset' in script attempted to access keys that don't hash to the same slot"
        }
    };
    let set_arg = "return redis.call('SET', ARGV[1], '1')";
    let (a, b, c) = (here.as_str(), same_node.as_str(), other_node.as_str());
    // (case, body, KEYS, ARGV, [no `#!` line, `#!lua`, `#!lua flags=allow-cross-slot-keys`])
    type Row<'a> = (&'a str, &'a str, Vec<&'a str>, Vec<&'a str>, [&'a str; 3]);
    let rows: [Row; 8] = [
        (
            "declared keys of two slots of this node",
            "return 1",
            vec![a, b],
            vec![],
            [CROSSSLOT; 3],
        ),
        (
            "declared keys on two nodes",
            "return 1",
            vec![a, c],
            vec![],
            [CROSSSLOT; 3],
        ),
        (
            "undeclared key of another slot of this node",
            set_arg,
            vec![a],
            vec![b],
            [OK, OTHER_SLOT, OK],
        ),
        (
            "undeclared key on another node",
            set_arg,
            vec![a],
            vec![c],
            [NON_LOCAL; 3],
        ),
        (
            "one call with keys of two slots of this node",
            "return redis.call('MSET', KEYS[1], '1', ARGV[1], '2')",
            vec![a],
            vec![b],
            [one_call_two_slots; 3],
        ),
        (
            "keyless, one key of this node",
            set_arg,
            vec![],
            vec![a],
            [OK; 3],
        ),
        (
            "keyless, keys of two slots of this node",
            "redis.call('SET', ARGV[1], '1') return redis.call('SET', ARGV[2], '1')",
            vec![],
            vec![a, b],
            [OK, OTHER_SLOT, OK],
        ),
        (
            "keyless, a key on another node",
            set_arg,
            vec![],
            vec![c],
            [NON_LOCAL; 3],
        ),
    ];
    let headers = ["", "#!lua\n", "#!lua flags=allow-cross-slot-keys\n"];
    for (case, body, keys, args, expected) in rows {
        for (header, expected) in headers.iter().zip(expected) {
            assert_eq!(
                outcome(&format!("{header}{body}"), &keys, &args),
                expected,
                "{case}, header {header:?}"
            );
        }
    }
    // EVALSHA is refused alike, before the script is even looked up.
    let flagged = "#!lua flags=allow-cross-slot-keys\nreturn 1";
    let sha1: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(flagged)
        .query(&mut connection)
        .expect("SCRIPT LOAD");
    let error = redis::cmd("EVALSHA")
        .arg(&sha1)
        .arg(2)
        .arg(a)
        .arg(b)
        .query::<redis::Value>(&mut connection)
        .expect_err("declared keys of two slots");
    assert_eq!(error.code(), Some("CROSSSLOT"), "{error}");
    for key in [a, b] {
        redis::cmd("DEL")
            .arg(key)
            .exec(&mut connection)
            .expect("DEL");
    }
}

// ---------------------------------------------------------------------------------------------
// Keyless scripts go to a primary.

#[test]
fn keyless_write_script_goes_to_a_primary() {
    let (_one_at_a_time, cluster) = shared();
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("cluster connection");
    assert_loaded_everywhere(&cluster::load_all(&mut connection, SCRIPTS).expect("load"));
    // A replica answers READONLY to a write script, and the `redis` crate then refreshes its
    // slot map and retries, up to 16 times, so a wrong route could still end in "master". What
    // shows that no attempt reached a replica is their counts: not run, not failed, not
    // refused.
    let replicas = cluster.replicas();
    assert_eq!(replicas.len(), 3);
    let replicas_before = script_calls_on(replicas.iter().copied());
    let primaries = cluster.primaries();
    let primaries_before = script_calls_on(primaries.iter().copied());
    for _ in 0..30 {
        assert_eq!(
            cluster::invoke(&Role, &mut connection).expect("routed to a primary"),
            "master"
        );
    }
    runtime().block_on(async {
        let mut connection = client
            .get_async_connection()
            .await
            .expect("async connection");
        for _ in 0..30 {
            let role = cluster::invoke_async(&Role, &mut connection)
                .await
                .expect("primary");
            assert_eq!(role, "master");
        }
    });
    assert_eq!(
        script_calls_on(replicas.iter().copied()),
        replicas_before,
        "a replica was sent the keyless write script"
    );
    let primaries_after = script_calls_on(primaries.iter().copied());
    let ran: u64 = primaries_after
        .iter()
        .filter(|((_, command), _)| *command == "evalsha")
        .map(|(key, after)| after.calls - primaries_before[key].calls)
        .sum();
    assert_eq!(ran, 60, "EVALSHA calls on the primaries");
    let failed: u64 = primaries_after
        .iter()
        .map(|(key, after)| {
            after.failed_calls + after.rejected_calls
                - primaries_before[key].failed_calls
                - primaries_before[key].rejected_calls
        })
        .sum();
    assert_eq!(failed, 0);
}

// ---------------------------------------------------------------------------------------------
// 3. Failover.

/// One invocation of `CounterLog` and what its caller was told.
#[derive(Debug)]
struct Invocation {
    id: u64,
    started: Instant,
    /// `Ok(replicas that acknowledged)` or the error.
    outcome: Result<usize, String>,
}

/// Each invoker's record, taken out of its mutex once the invokers have stopped.
fn take_records(records: &[Arc<Mutex<Vec<Invocation>>>]) -> Vec<Vec<Invocation>> {
    records
        .iter()
        .map(|record| std::mem::take(&mut *lock(record)))
        .collect()
}

/// The errors of every invoker's invocations.
fn errors_of(during: &[Vec<Invocation>]) -> Vec<&String> {
    during
        .iter()
        .flatten()
        .filter_map(|invocation| invocation.outcome.as_ref().err())
        .collect()
}

/// The invocations of one invoker that started after `instant`.
fn started_after(invocations: &[Invocation], instant: Instant) -> Vec<&Invocation> {
    invocations
        .iter()
        .filter(|invocation| invocation.started > instant)
        .collect()
}

fn counter_log(group: &str, id: u64) -> CounterLog<'_> {
    CounterLog {
        group,
        counter: "counter",
        log: "log",
        id,
    }
}

/// `cluster::invoke_and_wait` for each of `ids` in turn, a new id after an error too (an
/// invocation that failed may or may not have run, so it is never sent again), until `stop`.
fn invoke_sync_until(
    client: &redis::cluster::ClusterClient,
    group: &str,
    ids: std::ops::Range<u64>,
    wait: Duration,
    stop: &AtomicBool,
    invocations: &Mutex<Vec<Invocation>>,
) {
    let mut connection = client.get_connection().expect("connection");
    for id in ids {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let outcome = cluster::invoke_and_wait(&counter_log(group, id), &mut connection, 1, wait)
            .map(|done| done.replicas)
            .map_err(|error| error.to_string());
        let failed = outcome.is_err();
        lock(invocations).push(Invocation {
            id,
            started,
            outcome,
        });
        if failed {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Sets its flag when dropped, on success and on panic alike.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until every invoker has started a few invocations after `promoted` (a call may take
/// seconds during a failover: the `redis` crate waits and retries on `CLUSTERDOWN`).
fn wait_for_invokers(invokers: &[Arc<Mutex<Vec<Invocation>>>], promoted: Instant) {
    // Alone this takes a few seconds; with the other cluster tests of the binary on the same 2
    // cores, the redis crate's CLUSTERDOWN retries (growing pauses) have taken over 25 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    let started_after = |invocations: &Arc<Mutex<Vec<Invocation>>>| {
        lock(invocations)
            .iter()
            .filter(|invocation| invocation.started > promoted)
            .count()
    };
    while !invokers
        .iter()
        .all(|invocations| started_after(invocations) >= 5)
    {
        assert!(Instant::now() < deadline, "an invoker did not recover");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The asynchronous twin of [`invoke_sync_until`], each call bounded by `limit` (the `redis`
/// crate's asynchronous connection retries internally, with back-off, for a long while).
async fn invoke_async_until(
    mut connection: redis::cluster_async::ClusterConnection,
    group: String,
    ids: std::ops::Range<u64>,
    wait: Duration,
    stop: Arc<AtomicBool>,
    invocations: Arc<Mutex<Vec<Invocation>>>,
) {
    let limit = Duration::from_secs(10);
    for id in ids {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let script = counter_log(&group, id);
        let call = cluster::invoke_and_wait_async(&script, &mut connection, 1, wait);
        let outcome = match tokio::time::timeout(limit, call).await {
            Ok(Ok(done)) => Ok(done.replicas),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no reply within {limit:?}")),
        };
        let failed = outcome.is_err();
        lock(&invocations).push(Invocation {
            id,
            started,
            outcome,
        });
        if failed {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The log against what the callers were told: no id twice, no id nobody sent; every
/// invocation acknowledged by a replica (`WAIT 1` answered 1) there, and so is every one that
/// succeeded and was started after `killed` (only the promoted replica can have run it, and
/// nothing kills that one). An invocation that failed, or succeeded unreplicated on the old
/// primary, may or may not be there.
///
/// With `may_repeat`, an invocation may be there twice (no more): see
/// `failover_async_default_client_retries_in_flight_calls`.
fn assert_log_matches(log: &[u64], invocations: &[Invocation], killed: Instant, may_repeat: bool) {
    let mut seen = HashSet::new();
    let twice: Vec<u64> = log.iter().copied().filter(|id| !seen.insert(*id)).collect();
    let unique: HashSet<&u64> = twice.iter().collect();
    if may_repeat {
        assert_eq!(unique.len(), twice.len(), "applied three times: {twice:?}");
        eprintln!("run twice: {twice:?}");
    } else {
        assert!(twice.is_empty(), "applied twice: {twice:?}");
    }
    let sent: HashSet<u64> = invocations.iter().map(|invocation| invocation.id).collect();
    let unknown: Vec<&u64> = seen.iter().filter(|id| !sent.contains(*id)).collect();
    assert!(unknown.is_empty(), "applied but never sent: {unknown:?}");
    let lost: Vec<&Invocation> = invocations
        .iter()
        .filter(|invocation| match invocation.outcome {
            Ok(replicas) => replicas >= 1 || invocation.started > killed,
            Err(_) => false,
        })
        .filter(|invocation| !seen.contains(&invocation.id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// Every node answered the load with every script's SHA1.
fn assert_loaded_everywhere(nodes: &[cluster::NodeLoad]) {
    assert_eq!(nodes.len(), 6, "{nodes:?}");
    assert_eq!(
        nodes.iter().filter(|node| node.primary).count(),
        3,
        "{nodes:?}"
    );
    for node in nodes {
        let sha1s = node.result.as_ref().expect("loaded");
        let expected: Vec<&str> = SCRIPTS.iter().map(|script| script.sha1).collect();
        assert_eq!(sha1s, &expected, "{}", node.address);
    }
}

/// After a failover the dead node is still listed (flagged `fail`), reported as not loaded.
fn assert_loaded_but_on(nodes: &[cluster::NodeLoad], dead: u16) {
    assert_eq!(nodes.len(), 6, "{nodes:?}");
    for node in nodes {
        let is_dead = node.address == format!("127.0.0.1:{dead}");
        assert_eq!(node.result.is_err(), is_dead, "{node:?}");
    }
}

/// The `redis` crate's asynchronous cluster connection, as built by default, through a
/// failover with invocations in flight: none fails (the crate waits, retries, and reaches the
/// promoted replica) and none acknowledged is lost, but some may run twice: the crate sends a
/// command again when it sees no reply (a dropped connection) or a redirection, whether or not
/// it ran (observed: about one invocation in two failovers, some started after the kill).
#[test]
fn failover_async_default_client_retries_in_flight_calls() {
    failover_async(None);
}

/// The same with `ClusterClientBuilder::retries(0)`: the crate sends nothing twice, so nothing
/// runs twice; calls fail during the failover instead, and succeed again after it.
#[test]
fn failover_async_without_retries_runs_nothing_twice() {
    failover_async(Some(0));
}

/// Bounds one call on the `redis` crate's asynchronous cluster connection, which sets no
/// response timeout of its own and, built by default, retries a failing request 16 times with
/// exponential back-off (1.28 s growing to 328 s between tries, about 11 minutes in all): a
/// call that the failover leaves stuck fails the test, naming the step, instead of hanging it.
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    let limit = Duration::from_secs(60);
    tokio::time::timeout(limit, call)
        .await
        .unwrap_or_else(|_| panic!("{what}: no reply within {limit:?}"))
}

fn failover_async(retries: Option<u32>) {
    let mut cluster = RedisCluster::start().expect("start a cluster");
    let mut builder = ClusterClientBuilder::new(cluster.urls());
    if let Some(retries) = retries {
        builder = builder.retries(retries);
    }
    let client = builder.build().expect("cluster client");
    let group = "failover-async";
    let slot = hash_slot(group.as_bytes());
    let primary = cluster.node_for_slot(slot).expect("the tag's node").port();
    let runtime = runtime();
    let mut connection = runtime.block_on(async {
        let mut connection = bounded("connect", client.get_async_connection())
            .await
            .expect("connection");
        assert_loaded_everywhere(
            &bounded("load", cluster::load_all_async(&mut connection, SCRIPTS))
                .await
                .expect("load"),
        );
        connection
    });
    let stop = Arc::new(AtomicBool::new(false));
    let wait = Duration::from_millis(500);
    let before = Arc::new(Mutex::new(Vec::new()));
    runtime.block_on(invoke_async_until(
        connection.clone(),
        group.to_owned(),
        0..20,
        wait,
        stop.clone(),
        before.clone(),
    ));
    let before = std::mem::take(&mut *lock(&before));
    assert!(
        before.iter().all(|invocation| invocation.outcome == Ok(1)),
        "WAIT 1 before the kill: {before:?}"
    );

    // Three invokers, one connection (the asynchronous one is multiplexed), invoking while the
    // primary is killed under them.
    let records: Vec<Arc<Mutex<Vec<Invocation>>>> =
        (0..3).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    // The runtime runs the invokers on its own thread while this one kills the primary.
    let driver = std::thread::spawn({
        let (connection, stop, records) = (connection.clone(), stop.clone(), records.clone());
        move || {
            runtime.block_on(async move {
                let tasks: Vec<_> = (1..=3_u64)
                    .zip(records)
                    .map(|(n, record)| {
                        let ids = n * 10_000..(n + 1) * 10_000;
                        let (connection, stop) = (connection.clone(), stop.clone());
                        let group = group.to_owned();
                        tokio::spawn(invoke_async_until(
                            connection, group, ids, wait, stop, record,
                        ))
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("an invoker");
                }
            });
            runtime
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let killed = Instant::now();
    cluster.kill(primary);
    let promoted = cluster
        .wait_for_failover(primary, Duration::from_secs(30))
        .expect("failover");
    let promoted_after = killed.elapsed();
    wait_for_invokers(&records, killed + promoted_after);
    stop.store(true, Ordering::Relaxed);
    let runtime = driver.join().expect("the invokers");
    let during = take_records(&records);
    let errors = errors_of(&during);
    eprintln!(
        "async cluster connection (retries {retries:?}): promoted after {promoted_after:?}; {} \
         invocations, {} errors: {errors:?}",
        during.iter().map(Vec::len).sum::<usize>(),
        errors.len()
    );
    if retries.is_none() {
        // What the module docs promise: calls made during the failover wait, then succeed.
        assert!(errors.is_empty(), "{errors:?}");
    } else {
        assert!(
            !errors.is_empty(),
            "nothing failed while the primary was down"
        );
    }
    for invocations in &during {
        // The promoted replica has no replica of its own: WAIT 1 times out with 0. Without
        // retries, the first call after the failover may still meet the old slot map.
        let after = started_after(invocations, killed + promoted_after);
        let settled = if retries.is_none() { 0 } else { 2 };
        assert!(after.len() > settled, "{invocations:?}");
        assert!(
            after[settled..]
                .iter()
                .all(|invocation| invocation.outcome == Ok(0)),
            "after the failover: {after:?}"
        );
    }
    assert!(
        errors.iter().all(|error| !error.contains("NOSCRIPT")),
        "{errors:?}"
    );

    let node = cluster.node_for_slot(slot).expect("the tag's new node");
    assert_eq!(node.port(), promoted);
    // SCRIPT LOAD reached the replica before the failover: no EVAL fallback was needed.
    assert_eq!(command_calls(node, "eval"), 0);

    // The generic `Script::invoke_async` on the same connection, after the failover.
    let count = runtime
        .block_on(bounded(
            "Script::invoke_async after the failover",
            counter_log(group, 1_000).invoke_async(&mut connection),
        ))
        .expect("Script::invoke_async after the failover");
    let log = log_of(&cluster, "{failover-async}:log");
    assert_eq!(usize::try_from(count).expect("a count"), log.len());
    assert_eq!(log.last(), Some(&1_000));
    assert_eq!(
        get(&cluster, "{failover-async}:counter"),
        Some(log.len().to_string())
    );
    let nodes = runtime
        .block_on(bounded(
            "load after the failover",
            cluster::load_all_async(&mut connection, SCRIPTS),
        ))
        .expect("load");
    assert_loaded_but_on(&nodes, primary);

    let mut invocations: Vec<Invocation> = before
        .into_iter()
        .chain(during.into_iter().flatten())
        .collect();
    invocations.push(Invocation {
        id: 1_000,
        started: Instant::now(),
        outcome: Ok(0),
    });
    assert_log_matches(&log, &invocations, killed, retries.is_none());
}

#[test]
fn failover_sync_recovers_through_redis_script_cluster_functions() {
    let mut cluster = RedisCluster::start().expect("start a cluster");
    // Bounded reads: a call stuck on a node that does not answer fails (and may or may not
    // have run) instead of hanging the invoker. Bounded pauses between the `redis` crate's own
    // retries: by default they double up to minutes, so an invoker that kept failing through a
    // slow failover could sleep past the deadline below after the new primary was up.
    let client = ClusterClientBuilder::new(cluster.urls())
        .response_timeout(Duration::from_secs(5))
        .min_retry_wait(100)
        .max_retry_wait(1_000)
        .build()
        .expect("cluster client");
    let mut connection = client.get_connection().expect("connection");
    // Another connection, used with the generic `Script::invoke`, pins what the `redis` crate
    // does by itself.
    let mut generic = client.get_connection().expect("connection");
    assert_loaded_everywhere(&cluster::load_all(&mut connection, SCRIPTS).expect("load"));
    let group = "failover-sync";
    let slot = hash_slot(group.as_bytes());
    let primary = cluster.node_for_slot(slot).expect("the tag's node").port();

    let stop = AtomicBool::new(false);
    let wait = Duration::from_millis(500);
    let before = Mutex::new(Vec::new());
    invoke_sync_until(&client, group, 0..20, wait, &stop, &before);
    let mut invocations = std::mem::take(&mut *lock(&before));
    assert!(
        invocations
            .iter()
            .all(|invocation| invocation.outcome == Ok(1)),
        "WAIT 1 before the kill: {invocations:?}"
    );
    assert_eq!(
        counter_log(group, 100)
            .invoke(&mut generic)
            .expect("before the kill"),
        21
    );
    // Not waited for: it may be lost with the primary.

    // Three invokers, each with its own connection, invoking while the primary is killed.
    let records: Vec<Arc<Mutex<Vec<Invocation>>>> =
        (0..3).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    let (killed, promoted_after) = std::thread::scope(|scope| {
        // Stops the invokers however this block ends: a failed step (no failover in time)
        // then reports its panic instead of waiting for invokers that never stop.
        let _stop_invokers = StopOnDrop(&stop);
        for (n, record) in (1..=3_u64).zip(&records) {
            let (client, stop) = (&client, &stop);
            scope.spawn(move || {
                let ids = n * 10_000..(n + 1) * 10_000;
                invoke_sync_until(client, group, ids, wait, stop, record);
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        let killed = Instant::now();
        cluster.kill(primary);
        cluster
            .wait_for_failover(primary, Duration::from_secs(30))
            .expect("failover");
        let promoted_after = killed.elapsed();
        wait_for_invokers(&records, killed + promoted_after);
        stop.store(true, Ordering::Relaxed);
        (killed, promoted_after)
    });
    let during = take_records(&records);
    let errors = errors_of(&during);
    eprintln!(
        "sync cluster connection through cluster::invoke_and_wait: promoted after \
         {promoted_after:?}; {} invocations, {} errors",
        during.iter().map(Vec::len).sum::<usize>(),
        errors.len()
    );
    assert!(
        !errors.is_empty(),
        "nothing failed while the primary was down"
    );
    for invocations in &during {
        // Each invoker's next call after an error goes to the new primary, once there is one.
        let recovered = started_after(invocations, killed + promoted_after);
        assert!(recovered.len() >= 2, "{invocations:?}");
        assert!(
            recovered[1..]
                .iter()
                .all(|invocation| invocation.outcome == Ok(0)),
            "after the failover: {recovered:?}"
        );
    }
    assert!(
        errors.iter().all(|error| !error.contains("NOSCRIPT")),
        "{errors:?}"
    );
    let node = cluster.node_for_slot(slot).expect("the tag's new node");
    assert_eq!(command_calls(node, "eval"), 0);

    // The limitation of the `redis` crate (1.8): long after the failover, its synchronous
    // cluster connection still dials the dead primary on every generic call: `Connection
    // refused`; nothing was in flight, so nothing ran.
    let refused = |result: Result<i64, Error>| match result {
        Err(Error::Redis(error)) if error.is_connection_refusal() => {}
        other => panic!("the redis crate now recovers by itself ({other:?}): update the docs"),
    };
    for id in 200..203 {
        refused(counter_log(group, id).invoke(&mut generic));
    }
    let mut fresh = client.get_connection().expect("a new connection");
    let count = counter_log(group, 101)
        .invoke(&mut fresh)
        .expect("a new connection works");
    // The workaround: `redis_script::cluster::invoke` does not send again after an I/O error
    // (the script may have run), but reloads the slot map, so the next call, generic or not,
    // reaches the new primary.
    refused(cluster::invoke(&counter_log(group, 102), &mut generic));
    assert_eq!(
        counter_log(group, 103)
            .invoke(&mut generic)
            .expect("the generic call after"),
        count + 1
    );
    // Likewise for `cluster::invoke_and_wait` on the first connection, unused since the kill.
    let stale = cluster::invoke_and_wait(&counter_log(group, 104), &mut connection, 1, wait);
    assert!(
        matches!(&stale, Err(Error::Redis(error)) if error.is_connection_refusal()),
        "{stale:?}"
    );
    let done = cluster::invoke_and_wait(&counter_log(group, 105), &mut connection, 1, wait)
        .expect("the next call");
    assert_eq!(
        done,
        redis_script::Replicated {
            value: count + 2,
            replicas: 0
        }
    );

    assert_loaded_but_on(
        &cluster::load_all(&mut connection, SCRIPTS).expect("load"),
        primary,
    );
    let log = log_of(&cluster, "{failover-sync}:log");
    for id in [200, 201, 202, 102, 104] {
        assert!(!log.contains(&id), "refused, yet {id} ran");
    }
    invocations.extend(during.into_iter().flatten());
    let first = invocations[0].started;
    for (id, started) in [(100, first), (101, killed), (103, killed), (105, killed)] {
        invocations.push(Invocation {
            id,
            started: started + Duration::from_nanos(1),
            outcome: Ok(0),
        });
    }
    assert_log_matches(&log, &invocations, killed, false);
    assert_eq!(
        get(&cluster, "{failover-sync}:counter"),
        Some(log.len().to_string())
    );
}

// ---------------------------------------------------------------------------------------------
// 4. SCRIPT FLUSH on every node, mid-run.

fn flush_scripts_everywhere(cluster: &RedisCluster) {
    for node in cluster.nodes() {
        redis::cmd("SCRIPT")
            .arg("FLUSH")
            .exec(&mut node.connection().expect("connect"))
            .expect("SCRIPT FLUSH");
    }
}

#[test]
fn script_flush_mid_run_every_invocation_succeeds_exactly_once() {
    let (_one_at_a_time, cluster) = shared();
    let group = "flush";
    let node = cluster
        .node_for_slot(hash_slot(group.as_bytes()))
        .expect("node");
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("connection");
    assert_loaded_everywhere(&cluster::load_all(&mut connection, SCRIPTS).expect("load"));
    let evals_before = command_calls(node, "eval");
    let mut expected = 0;
    for id in 0..60 {
        if id % 10 == 5 {
            flush_scripts_everywhere(cluster);
        }
        let script = CounterLog {
            group,
            counter: "counter",
            log: "log",
            id,
        };
        expected += 1;
        let count = match id % 3 {
            0 => script.invoke(&mut connection).expect("invoke"),
            1 => cluster::invoke(&script, &mut connection).expect("cluster::invoke"),
            _ => {
                let done = script
                    .invoke_and_wait(&mut connection, 1, Duration::from_secs(2))
                    .expect("invoke_and_wait");
                assert_eq!(done.replicas, 1);
                done.value
            }
        };
        assert_eq!(count, expected);
    }
    runtime().block_on(async {
        let mut connection = client.get_async_connection().await.expect("connection");
        for id in 60..120 {
            if id % 10 == 5 {
                flush_scripts_everywhere(cluster);
            }
            let script = CounterLog {
                group,
                counter: "counter",
                log: "log",
                id,
            };
            expected += 1;
            let count = match id % 3 {
                0 => script
                    .invoke_async(&mut connection)
                    .await
                    .expect("invoke_async"),
                1 => cluster::invoke_async(&script, &mut connection)
                    .await
                    .expect("routed"),
                _ => {
                    let done = cluster::invoke_and_wait_async(
                        &script,
                        &mut connection,
                        1,
                        Duration::from_secs(2),
                    )
                    .await
                    .expect("invoke_and_wait_async");
                    assert_eq!(done.replicas, 1);
                    done.value
                }
            };
            assert_eq!(count, expected);
        }
    });
    // Each of the 12 flushes made the next call answer NOSCRIPT and fall back to EVAL once.
    assert_eq!(
        command_calls(node, "eval") - evals_before,
        12,
        "EVAL fallbacks"
    );
    assert_applied_exactly_once(&log_of(cluster, "{flush}:log"), 0..120);

    // Now a flusher thread empties every node's script cache every few milliseconds while the
    // invocations run, so that a flush can land between any two commands: between an EVALSHA
    // and its fallback, inside a pipeline with WAIT. NOSCRIPT means nothing ran, and the
    // fallback EVAL needs no cache, so every invocation still succeeds, exactly once.
    let stop = AtomicBool::new(false);
    let flushed = AtomicU64::new(0);
    let evals_before = command_calls(node, "eval");
    let end = std::thread::scope(|scope| {
        // A failed invocation reports its panic; the flusher stops either way.
        let _stop_flusher = StopOnDrop(&stop);
        let flusher = scope.spawn(|| {
            let mut connections: Vec<redis::Connection> = cluster
                .nodes()
                .iter()
                .map(|node| node.connection().expect("connect"))
                .collect();
            while !stop.load(Ordering::Relaxed) {
                for connection in &mut connections {
                    redis::cmd("SCRIPT")
                        .arg("FLUSH")
                        .exec(connection)
                        .expect("SCRIPT FLUSH");
                }
                flushed.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(3));
            }
        });
        // Until the flusher has emptied the caches many times, however fast the calls are.
        let mut id = 120;
        while id < 300 || flushed.load(Ordering::Relaxed) < 50 {
            assert!(id < 100_000, "the flusher does not flush");
            let script = CounterLog {
                group,
                counter: "counter",
                log: "log",
                id,
            };
            expected += 1;
            let count = match id % 4 {
                0 => script.invoke(&mut connection).expect("invoke"),
                1 => cluster::invoke(&script, &mut connection).expect("cluster::invoke"),
                2 => {
                    let done = script
                        .invoke_and_wait(&mut connection, 1, Duration::from_secs(2))
                        .expect("invoke_and_wait");
                    assert_eq!(done.replicas, 1);
                    done.value
                }
                _ => {
                    let done = cluster::invoke_and_wait(
                        &script,
                        &mut connection,
                        1,
                        Duration::from_secs(2),
                    )
                    .expect("cluster::invoke_and_wait");
                    assert_eq!(done.replicas, 1);
                    done.value
                }
            };
            assert_eq!(count, expected);
            id += 1;
        }
        stop.store(true, Ordering::Relaxed);
        flusher.join().expect("the flusher");
        id
    });
    let flushes = flushed.load(Ordering::Relaxed);
    let fallbacks = command_calls(node, "eval") - evals_before;
    let invocations = end - 120;
    eprintln!(
        "{flushes} flushes of every node, {fallbacks} EVAL fallbacks in {invocations} invocations"
    );
    assert!(flushes >= 50, "{flushes} flushes");
    assert!(
        (1..=invocations).contains(&fallbacks),
        "{fallbacks} EVAL fallbacks"
    );
    assert_applied_exactly_once(&log_of(cluster, "{flush}:log"), 0..end);
}

// ---------------------------------------------------------------------------------------------
// 5. `no-writes` scripts served by replicas.

#[test]
fn read_only_scripts_are_served_by_a_replica() {
    let (_one_at_a_time, cluster) = shared();
    let key = "{read-only}:key";
    let primary = cluster
        .node_for_slot(hash_slot(key.as_bytes()))
        .expect("node");
    let mut primary_connection = primary.connection().expect("connect");
    redis::cmd("SET")
        .arg(key)
        .arg("replicated")
        .exec(&mut primary_connection)
        .expect("SET");
    let acknowledged: usize = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query(&mut primary_connection)
        .expect("WAIT");
    assert_eq!(acknowledged, 1);
    let replica_calls = |cluster: &RedisCluster| -> u64 {
        cluster
            .replicas()
            .iter()
            .map(|node| command_calls(node, "evalsha_ro") + command_calls(node, "eval_ro"))
            .sum()
    };
    let primary_before = command_calls(primary, "evalsha_ro") + command_calls(primary, "eval_ro");
    let replicas_before = replica_calls(cluster);

    let client = ClusterClientBuilder::new(cluster.urls())
        .read_routing_strategy(RandomReplicaStrategy)
        .build()
        .expect("cluster client reading from replicas");
    let mut connection = client.get_connection().expect("connection");
    let read = Read { key };
    for _ in 0..10 {
        assert_eq!(
            read.invoke(&mut connection).expect("sync").as_deref(),
            Some("replicated")
        );
        let routed = cluster::invoke(&read, &mut connection).expect("routed");
        assert_eq!(routed.as_deref(), Some("replicated"));
    }
    runtime().block_on(async {
        let mut connection = client.get_async_connection().await.expect("connection");
        for _ in 0..10 {
            let value = read.invoke_async(&mut connection).await.expect("async");
            assert_eq!(value.as_deref(), Some("replicated"));
            let value = cluster::invoke_async(&read, &mut connection)
                .await
                .expect("routed");
            assert_eq!(value.as_deref(), Some("replicated"));
        }
    });
    let served_by_replicas = replica_calls(cluster) - replicas_before;
    let served_by_primary =
        command_calls(primary, "evalsha_ro") + command_calls(primary, "eval_ro") - primary_before;
    // 40 invocations; a replica without the script answers NOSCRIPT to EVALSHA_RO and then
    // runs EVAL_RO, so it may count up to one more call.
    assert_eq!(served_by_primary, 0, "EVALSHA_RO reached the primary");
    assert!(
        (40..=41).contains(&served_by_replicas),
        "{served_by_replicas}"
    );
}

/// A `no-writes` script with a replication wait, on clients that read from replicas: the
/// pipeline must reach the primary (a replica refuses `WAIT`), as every entry point sends it.
#[test]
fn waiting_read_only_script_goes_to_the_primary_when_reading_from_replicas() {
    let (_one_at_a_time, cluster) = shared();
    let key = "{read-wait}:key";
    let primary = cluster
        .node_for_slot(hash_slot(key.as_bytes()))
        .expect("node");
    let mut primary_connection = primary.connection().expect("connect");
    redis::cmd("SET")
        .arg(key)
        .arg("here")
        .exec(&mut primary_connection)
        .expect("SET");
    let watched = ["evalsha", "eval", "evalsha_ro", "eval_ro", "wait"];
    let replica_stats = |cluster: &RedisCluster| -> Vec<CommandStats> {
        let replicas = cluster.replicas();
        assert_eq!(replicas.len(), 3);
        replicas
            .iter()
            .flat_map(|node| watched.map(|command| command_stats(node, command)))
            .collect()
    };
    // Loaded, so that no NOSCRIPT adds a second pipeline (and WAIT) to an invocation.
    let mut loader = cluster
        .client()
        .expect("client")
        .get_connection()
        .expect("connection");
    assert_loaded_everywhere(&cluster::load_all(&mut loader, SCRIPTS).expect("load"));
    let replicas_before = replica_stats(cluster);
    let primary_waits = command_stats(primary, "wait").calls;

    let read = Read { key };
    let timeout = Duration::from_secs(2);
    let expected = redis_script::Replicated {
        value: Some("here".to_owned()),
        replicas: 1,
    };
    let random_replica = ClusterClientBuilder::new(cluster.urls())
        .read_routing_strategy(RandomReplicaStrategy)
        .build()
        .expect("a client reading from a random replica");
    // Deprecated in favour of the strategy above, but still offered: users may have it.
    #[allow(deprecated)]
    let from_replicas = ClusterClientBuilder::new(cluster.urls())
        .read_from_replicas()
        .build()
        .expect("a client reading from replicas");
    for client in [random_replica, from_replicas] {
        let mut connection = client.get_connection().expect("connection");
        for _ in 0..5 {
            let generic = read
                .invoke_and_wait(&mut connection, 1, timeout)
                .expect("Script::invoke_and_wait");
            assert_eq!(generic, expected);
            let routed = cluster::invoke_and_wait(&read, &mut connection, 1, timeout)
                .expect("cluster::invoke_and_wait");
            assert_eq!(routed, expected);
        }
        runtime().block_on(async {
            let mut connection = client.get_async_connection().await.expect("connection");
            for _ in 0..5 {
                let generic = read
                    .invoke_and_wait_async(&mut connection, 1, timeout)
                    .await
                    .expect("Script::invoke_and_wait_async");
                assert_eq!(generic, expected);
                let routed = cluster::invoke_and_wait_async(&read, &mut connection, 1, timeout)
                    .await
                    .expect("cluster::invoke_and_wait_async");
                assert_eq!(routed, expected);
            }
        });
    }
    // No replica was sent any of it, not even a refused attempt; the primary answered all
    // 40 WAITs.
    assert_eq!(replica_stats(cluster), replicas_before);
    assert_eq!(command_stats(primary, "wait").calls - primary_waits, 40);
}

// ---------------------------------------------------------------------------------------------
// 6. The replication wait on a standalone primary with one replica.

#[test]
fn replication_wait_on_a_standalone_primary_counts_its_replica() {
    let primary = RedisServer::start().expect("primary");
    let replica =
        RedisServer::start_with(&[("replicaof", &format!("127.0.0.1 {}", primary.port()))])
            .expect("replica");
    let mut replica_connection = replica.connection().expect("connect to the replica");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(&mut replica_connection)
            .expect("INFO");
        if info.contains("master_link_status:up") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never linked: {info}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut connection = primary.connection().expect("connect");
    let script = |id| CounterLog {
        group: "wait",
        counter: "counter",
        log: "log",
        id,
    };
    let timeout = Duration::from_secs(2);
    let done = script(0)
        .invoke_and_wait(&mut connection, 1, timeout)
        .expect("invoke_and_wait");
    assert_eq!(
        done,
        redis_script::Replicated {
            value: 1,
            replicas: 1
        }
    );
    // After SCRIPT FLUSH the pipeline is answered NOSCRIPT + WAIT, then EVAL + WAIT.
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .exec(&mut connection)
        .expect("SCRIPT FLUSH");
    let done = script(1)
        .invoke_and_wait(&mut connection, 1, timeout)
        .expect("after a flush");
    assert_eq!(
        done,
        redis_script::Replicated {
            value: 2,
            replicas: 1
        }
    );
    // Asking for more replicas than there are waits out the timeout and says how many.
    let started = Instant::now();
    let short = Duration::from_millis(200);
    let done = script(2)
        .invoke_and_wait(&mut connection, 2, short)
        .expect("two replicas");
    assert_eq!(
        done,
        redis_script::Replicated {
            value: 3,
            replicas: 1
        }
    );
    assert!(started.elapsed() >= short);

    runtime().block_on(async {
        let client = primary.client();
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("async");
        let done = script(3)
            .invoke_and_wait_async(&mut connection, 1, timeout)
            .await
            .expect("async");
        assert_eq!(
            done,
            redis_script::Replicated {
                value: 4,
                replicas: 1
            }
        );
        redis::cmd("SCRIPT")
            .arg("FLUSH")
            .exec_async(&mut connection)
            .await
            .expect("flush");
        let done = script(4)
            .invoke_and_wait_async(&mut connection, 1, timeout)
            .await
            .expect("x");
        assert_eq!(
            done,
            redis_script::Replicated {
                value: 5,
                replicas: 1
            }
        );
    });
    // Every write is on the replica, each once.
    let log: Vec<u64> = redis::cmd("LRANGE")
        .arg("{wait}:log")
        .arg(0)
        .arg(-1)
        .query(&mut replica_connection)
        .expect("LRANGE on the replica");
    assert_eq!(log, vec![0, 1, 2, 3, 4]);
}
