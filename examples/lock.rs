//! A distributed lock with a fencing token: acquire, extend, release.
//!
//! What it relies on: `SET key owner NX PX ttl` sets the key only if it is absent and expires it
//! after `ttl` milliseconds, so at most one owner holds the lock and a crashed owner's lock
//! frees itself. Expiry also means a paused owner (GC, swap, a stalled VM) can lose the lock
//! without knowing, so every acquisition returns a *fencing token* from `INCR` on a counter that
//! is never reset: the protected resource accepts a write only with a token at least as high as
//! any it has seen, which shuts out the stale owner. Checking the owner and acting on the lock
//! (extend, release) must be one atomic step, which a script is: a `GET` then `DEL` from the
//! client could delete the next owner's lock.
//!
//! ```text
//! cargo run -p redis-script-examples --example lock
//! ```

mod support;

use std::time::Duration;

use redis_script::RedisScript;
use support::check;

/// Takes lock `name` for `owner` for `ttl_ms`; returns the fencing token, or -1 if held.
#[derive(RedisScript)]
#[redis_script(path = "lua/lock/acquire.lua", returns = i64)]
struct Acquire<'a> {
    // KEYS[1] = "{lock:<name>}"; the script derives "{lock:<name>}:fence", same hash tag.
    #[key("{{lock:{}}}")]
    name: &'a str,
    #[arg]
    owner: &'a str,
    #[arg]
    ttl_ms: u64,
}

/// Gives the lock another `ttl_ms` if `owner` still holds it; returns 1 or 0.
#[derive(RedisScript)]
#[redis_script(path = "lua/lock/extend.lua", returns = i64)]
struct Extend<'a> {
    #[key("{{lock:{}}}")]
    name: &'a str,
    #[arg]
    owner: &'a str,
    #[arg]
    ttl_ms: u64,
}

/// Deletes the lock if `owner` holds it; returns 1 or 0.
#[derive(RedisScript)]
#[redis_script(path = "lua/lock/release.lua", returns = i64)]
struct Release<'a> {
    #[key("{{lock:{}}}")]
    name: &'a str,
    #[arg]
    owner: &'a str,
}

/// The resource's check: writes `value` only with a token no lower than any seen; 1 or 0.
#[derive(RedisScript)]
#[redis_script(path = "lua/lock/fenced_write.lua", returns = i64)]
struct FencedWrite<'a> {
    #[key("{{report:{}}}:body")]
    report: &'a str, // KEYS[1] = "{report:<report>}:body"
    #[key("{{report:{report}}}:{}")]
    token_key: &'a str, // KEYS[2] = "{report:<report>}:<token_key>", same slot
    #[arg]
    token: i64,
    #[arg]
    value: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    redis::cmd("DEL")
        .arg(&["{lock:nightly-report}", "{lock:nightly-report}:fence"])
        .arg(&["{report:nightly}:body", "{report:nightly}:highest-token"])
        .exec(&mut connection)?;
    let lock = "nightly-report";
    let write = |connection: &mut redis::Connection, token: i64, value: &str| {
        FencedWrite {
            report: "nightly",
            token_key: "highest-token",
            token,
            value,
        }
        .invoke(connection)
    };

    println!("worker A takes the lock for 200 ms");
    let token_a = Acquire {
        name: lock,
        owner: "worker-a",
        ttl_ms: 200,
    }
    .invoke(&mut connection)?;
    check(&format!("A got fencing token {token_a}"), token_a > 0)?;
    let refused = Acquire {
        name: lock,
        owner: "worker-b",
        ttl_ms: 200,
    }
    .invoke(&mut connection)?;
    check("B is refused while A holds it", refused == -1)?;
    let extended = Extend {
        name: lock,
        owner: "worker-a",
        ttl_ms: 200,
    }
    .invoke(&mut connection)?;
    check("A extends its own lock", extended == 1)?;
    check(
        "A writes with its token",
        write(&mut connection, token_a, "draft by A")? == 1,
    )?;

    println!("A stalls for 300 ms; its lock expires and B takes it");
    std::thread::sleep(Duration::from_millis(300));
    let token_b = Acquire {
        name: lock,
        owner: "worker-b",
        ttl_ms: 5_000,
    }
    .invoke(&mut connection)?;
    check(
        &format!("B got fencing token {token_b}, higher than A's"),
        token_b > token_a,
    )?;
    check(
        "B writes with its token",
        write(&mut connection, token_b, "final by B")? == 1,
    )?;

    println!("A wakes up, unaware it lost the lock");
    let extended = Extend {
        name: lock,
        owner: "worker-a",
        ttl_ms: 200,
    }
    .invoke(&mut connection)?;
    check("A cannot extend B's lock", extended == 0)?;
    check(
        "A's stale write is refused by its old token",
        write(&mut connection, token_a, "late draft by A")? == 0,
    )?;
    let released = Release {
        name: lock,
        owner: "worker-a",
    }
    .invoke(&mut connection)?;
    check("A cannot release B's lock", released == 0)?;
    let released = Release {
        name: lock,
        owner: "worker-b",
    }
    .invoke(&mut connection)?;
    check("B releases its lock", released == 1)?;

    let body: String = redis::cmd("GET")
        .arg("{report:nightly}:body")
        .query(&mut connection)?;
    check(&format!("the report holds {body:?}"), body == "final by B")?;
    Ok(())
}
