//! Scripts on a Redis Cluster: key templates that prove co-location, `load_all` on every node,
//! and a `ClusterBatch` of invocations spread over all primaries.
//!
//! What it relies on: a cluster runs a script on the node owning its keys' hash slot, and
//! refuses (`CROSSSLOT`) a script whose keys are in different slots. Only the part of a key
//! between `{` and `}` (its hash tag) is hashed, so the key templates below give all keys of
//! one bank the tag `{bank:<bank>}`: the derive proves at compile time that each script's keys
//! share a slot, while different banks spread over the cluster. Each node has its own script
//! cache, and a replica promoted after a failover has not seen the `EVAL`s of its old primary,
//! so `cluster::load_all` sends `SCRIPT LOAD` to every node, replicas included. `ClusterBatch`
//! groups invocations by slot and node, pipelines each node's share, and runs the nodes
//! concurrently.
//!
//! Starts a throwaway 3-primary, 3-replica cluster (or uses `REDIS_CLUSTER_URL`, any node):
//!
//! ```text
//! cargo run -p redis-script-examples --example cluster
//! ```

use redis_script::batch::{ClusterBatch, ClusterNodes};
use redis_script::cluster::{self, ScriptSource};
use redis_script::{RedisScript, Script};
use throwaway_redis::RedisCluster;

/// Moves up to `amount` between two accounts of one bank; returns how much moved.
#[derive(RedisScript)]
#[redis_script(path = "lua/transfer.lua", returns = i64)]
struct Transfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    from: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<from>"
    #[key("{{bank:{bank}}}:acct:{}")]
    to: &'a str, // KEYS[2] = "{bank:<bank>}:acct:<to>"
    #[arg]
    amount: i64,
}

/// Adds `amount` to an account and to its bank's total; returns the new balance.
#[derive(RedisScript)]
#[redis_script(path = "lua/cluster/deposit.lua", returns = i64)]
struct Deposit<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    account: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<account>"
    #[key("{{bank:{bank}}}:{}")]
    total: &'a str, // KEYS[2] = "{bank:<bank>}:<total>"
    #[arg]
    amount: i64,
}

/// The scripts this service runs, for loading on every node at start-up.
const SCRIPTS: &[ScriptSource] = &[
    ScriptSource::of::<Transfer<'static>>(),
    ScriptSource::of::<Deposit<'static>>(),
];

const BANKS: [&str; 8] = ["ams", "ber", "cph", "dub", "fra", "lis", "mad", "osl"];
const ACCOUNTS: usize = 25;

fn check(what: &str, holds: bool) -> Result<(), Box<dyn std::error::Error>> {
    println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
    if holds {
        Ok(())
    } else {
        Err(format!("not as expected: {what}").into())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (seeds, _cluster) = match std::env::var("REDIS_CLUSTER_URL") {
        Ok(url) => (vec![url], None),
        Err(_) => {
            println!("starting a throwaway cluster of 3 primaries and 3 replicas");
            let cluster = RedisCluster::start()?;
            (cluster.urls(), Some(cluster))
        }
    };
    let client = redis::cluster::ClusterClient::new(seeds.clone())?;
    let mut connection = client.get_connection()?;

    let nodes = cluster::load_all(&mut connection, SCRIPTS)?;
    for node in &nodes {
        let role = if node.primary { "primary" } else { "replica" };
        match &node.result {
            Ok(sha1s) => println!("  {} ({role}): loaded {}", node.address, sha1s.len()),
            Err(error) => println!("  {} ({role}): not loaded: {error}", node.address),
        }
    }
    check(
        "both scripts are loaded on every node, replicas included",
        nodes.iter().all(|node| node.is_loaded()),
    )?;

    for bank in BANKS {
        let mut keys: Vec<String> = (0..ACCOUNTS)
            .map(|i| format!("{{bank:{bank}}}:acct:{i}"))
            .collect();
        keys.push(format!("{{bank:{bank}}}:total"));
        redis::cmd("DEL").arg(&keys).exec(&mut connection)?;
    }
    let mut slots = Vec::new();
    for bank in BANKS {
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("{{bank:{bank}}}"))
            .query(&mut connection)?;
        slots.push(slot);
    }

    println!(
        "a ClusterBatch of {} deposits, one pipeline per primary",
        BANKS.len() * ACCOUNTS
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let replies = runtime.block_on(async {
        let mut nodes = ClusterNodes::connect(seeds[0].as_str()).await?;
        let primaries: std::collections::BTreeSet<String> = slots
            .iter()
            .filter_map(|slot| nodes.slot_map().primary(*slot))
            .collect();
        println!(
            "  the {} banks' slots {slots:?} are on {} primaries",
            BANKS.len(),
            primaries.len()
        );
        let mut batch = ClusterBatch::new();
        let accounts: Vec<(&str, String)> = BANKS
            .iter()
            .flat_map(|bank| (0..ACCOUNTS).map(move |i| (*bank, i.to_string())))
            .collect();
        let tickets: Vec<_> = accounts
            .iter()
            .map(|(bank, account)| {
                batch.invoke(&Deposit {
                    bank,
                    account,
                    total: "total",
                    amount: 100,
                })
            })
            .collect();
        let replies = batch.run_async(&mut nodes).await?;
        tickets
            .into_iter()
            .map(|ticket| replies.get(ticket))
            .collect::<Result<Vec<i64>, _>>()
    })?;
    check(
        "every deposit ran once: each account holds 100",
        replies.iter().all(|balance| *balance == 100),
    )?;

    let moved = Transfer {
        bank: "ams",
        from: "0",
        to: "1",
        amount: 250,
    }
    .invoke(&mut connection)?;
    check(
        &format!("a transfer of 250 from an account of 100 moves {moved}"),
        moved == 100,
    )?;
    let balances: Vec<i64> = redis::cmd("MGET")
        .arg(&["{bank:ams}:acct:0", "{bank:ams}:acct:1"])
        .query(&mut connection)?;
    check(
        &format!("the balances are {balances:?}"),
        balances == [0, 200],
    )?;
    for bank in BANKS {
        let total: i64 = redis::cmd("GET")
            .arg(format!("{{bank:{bank}}}:total"))
            .query(&mut connection)?;
        check(
            &format!("bank {bank} holds {total}"),
            total == 100 * ACCOUNTS as i64,
        )?;
    }
    println!(
        "Transfer's SHA1 is {}, computed at compile time",
        Transfer::SHA1
    );
    Ok(())
}
