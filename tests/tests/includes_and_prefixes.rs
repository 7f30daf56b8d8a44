//! Scripts assembled from shared Lua helpers (`--- @include`) and key prefixes carried in
//! ARGV (`#[arg("template")]`), against a real server and a real cluster: what is sent, what
//! runs, where a Lua error in a helper is reported, and that every file is a build input.

use std::sync::OnceLock;

use redis::Commands;
use redis_script::{Error, RedisScript, Script};
use throwaway_redis::{RedisCluster, RedisServer};

/// Adds a job to a queue: the key prefix in ARGV[1] carries the queue's hash tag, so the job
/// hashes the script builds on it are in the keys' slot.
#[derive(RedisScript)]
#[redis_script(path = "lua/jobs/add_job.lua", returns = i64)]
struct AddJob<'a> {
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    list: &'a str,
    #[key("{{q:{queue}}}:{}")]
    counter: &'a str,
    #[arg("{{q:{queue}}}:{}")]
    prefix: &'a str,
    #[arg]
    data: &'a str,
    #[arg]
    attempts: i64,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/jobs/remove_job.lua", returns = i64)]
struct RemoveJob<'a> {
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    list: &'a str,
    #[arg("{{q:{queue}}}:{}")]
    prefix: &'a str,
    #[arg]
    id: i64,
}

/// The prefix's hash tag is its own value: an empty one leaves no tag, which the slot guard
/// catches before anything is sent.
#[derive(RedisScript)]
#[redis_script(path = "lua/jobs/remove_job.lua", returns = i64)]
struct RemoveByTag<'a> {
    #[key("{{{tag}}}:{}")]
    list: &'a str,
    #[arg("{{{}}}:")]
    tag: &'a str,
    #[arg]
    id: i64,
}

fn add<'a>(queue: &'a str, data: &'a str, attempts: i64) -> AddJob<'a> {
    AddJob {
        queue,
        list: "wait",
        counter: "id",
        prefix: "",
        data,
        attempts,
    }
}

fn server() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| RedisServer::start().expect("start redis-server"))
}

#[test]
fn helpers_are_inlined_once_and_the_server_hashes_what_is_sent() {
    // keys.lua is named by both remove_job.lua and its include: inlined once, where first named.
    assert_eq!(
        RemoveJob::SOURCE.matches("local function job_key").count(),
        1
    );
    assert_eq!(
        RemoveJob::SOURCE,
        concat!(
            "--- @include \"includes/remove_job\"\n",
            "--- @include \"keys\"\n",
            include_str!("../lua/jobs/includes/keys.lua"),
            "local function remove_job(prefix, list, id)\n",
            "  redis.call('LREM', list, 0, id)\n",
            "  return redis.call('DEL', job_key(prefix, id))\n",
            "end\n",
            "--- @include \"includes/keys\"\n",
            "return remove_job(ARGV[1], KEYS[1], ARGV[2])\n",
        )
    );
    let mut connection = server().connection().expect("connect");
    for (source, sha1) in [
        (AddJob::SOURCE, AddJob::SHA1),
        (RemoveJob::SOURCE, RemoveJob::SHA1),
    ] {
        let loaded: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(source)
            .query(&mut connection)
            .expect("SCRIPT LOAD");
        assert_eq!(loaded, sha1);
    }
}

#[test]
fn scripts_sharing_helpers_run_on_a_server() {
    let mut connection = server().connection().expect("connect");
    let first = add("mail", "hello", 3)
        .invoke(&mut connection)
        .expect("add");
    let second = add("mail", "again", 1)
        .invoke(&mut connection)
        .expect("add");
    assert_eq!(second, first + 1);
    let job = format!("{{q:mail}}:job:{first}");
    let data: String = connection.hget(&job, "data").expect("HGET");
    let state: String = connection.hget(&job, "state").expect("HGET");
    let attempts: i64 = connection.hget(&job, "attempts").expect("HGET");
    assert_eq!(
        (data.as_str(), state.as_str(), attempts),
        ("hello", "waiting", 3)
    );
    let added: i64 = connection.hget(&job, "added").expect("HGET");
    assert!(
        added > 1_600_000_000_000,
        "milliseconds from now_ms(): {added}"
    );

    let removed = RemoveJob {
        queue: "mail",
        list: "wait",
        prefix: "",
        id: first,
    }
    .invoke(&mut connection)
    .expect("remove");
    assert_eq!(removed, 1);
    let waiting: Vec<i64> = connection.lrange("{q:mail}:wait", 0, -1).expect("LRANGE");
    assert_eq!(waiting, vec![second]);
    assert!(!connection.exists::<_, bool>(&job).expect("EXISTS"));
}

#[test]
fn a_lua_error_in_an_included_file_names_that_file_and_line() {
    let mut connection = server().connection().expect("connect");
    let error = add("mail", "bad", 0).invoke(&mut connection).unwrap_err();
    let Error::Script(error) = error else {
        panic!("expected a script error, got {error:?}")
    };
    assert_eq!(error.path(), "lua/jobs/includes/validate.lua");
    assert_eq!(error.line(), 5);
    assert_eq!(
        error.source_line(),
        Some("    error('invalid ' .. name .. ': ' .. tostring(value))")
    );
    assert_eq!(error.message(), "invalid attempts: 0");
    assert_eq!(
        error.to_string(),
        "lua/jobs/includes/validate.lua:5: invalid attempts: 0\n    5 |     error('invalid ' .. \
         name .. ': ' .. tostring(value))"
    );
    // Nothing was written: the check runs before the INCR.
    assert!(
        !connection
            .exists::<_, bool>("{q:mail}:job:0")
            .expect("EXISTS")
    );
}

/// Cargo rebuilds a crate when a file in its dep-info changes: each included file must be
/// there, or editing a helper would leave stale SOURCE and SHA1 behind.
#[test]
fn every_included_file_is_a_build_input() {
    let executable = std::env::current_exe().expect("the test binary");
    let dep_info = executable.with_extension("d");
    let listed = std::fs::read_to_string(&dep_info)
        .unwrap_or_else(|error| panic!("read {}: {error}", dep_info.display()));
    for file in [
        "add_job.lua",
        "remove_job.lua",
        "includes/keys.lua",
        "includes/time.lua",
        "includes/validate.lua",
        "includes/remove_job.lua",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lua/jobs")
            .join(file);
        let path = path.to_str().expect("UTF-8 path");
        assert!(
            listed.contains(path),
            "{path} is not in {}",
            dep_info.display()
        );
    }
}

#[test]
fn prefixed_keys_share_the_slot_on_a_cluster() {
    let cluster = RedisCluster::start().expect("start a 6-node redis cluster");
    let client = cluster.client().expect("cluster client");
    let mut connection = client.get_connection().expect("connect to the cluster");
    // Queues whose tags are served by different primaries: each script runs on its own node.
    let queues = ["mail", "sms", "push", "webhooks", "reports", "exports"];
    let slots: std::collections::BTreeSet<u16> = queues
        .iter()
        .map(|queue| redis_script_analysis::hash_slot(format!("q:{queue}").as_bytes()))
        .collect();
    assert_eq!(slots.len(), queues.len());
    for queue in queues {
        let first = add(queue, queue, 2)
            .invoke(&mut connection)
            .expect("add on the cluster");
        let second = add(queue, "more", 2)
            .invoke(&mut connection)
            .expect("add on the cluster");
        assert_eq!((first, second), (1, 2));
        let data: String = connection
            .hget(format!("{{q:{queue}}}:job:1"), "data")
            .expect("HGET");
        assert_eq!(data, queue);
        let removed = RemoveJob {
            queue,
            list: "wait",
            prefix: "",
            id: 1,
        }
        .invoke(&mut connection)
        .expect("remove on the cluster");
        assert_eq!(removed, 1);
    }

    // An empty tag: keys built on the prefix would be hashed whole, in any slot. Refused before
    // anything is sent, with the keys and the prefix and their slots.
    let refused = RemoveByTag {
        list: "wait",
        tag: "",
        id: 2,
    }
    .invoke(&mut connection);
    let Err(Error::CrossSlot { keys_and_slots, .. }) = refused else {
        panic!("expected CrossSlot, got {refused:?}")
    };
    let sent: Vec<&[u8]> = keys_and_slots
        .iter()
        .map(|(key, _)| key.as_slice())
        .collect();
    assert_eq!(sent, [&b"{}:wait"[..], &b"{}:"[..]]);
    let tagged = RemoveByTag {
        list: "wait",
        tag: "q:mail",
        id: 2,
    }
    .invoke(&mut connection)
    .expect("remove by tag");
    assert_eq!(tagged, 1);
}
