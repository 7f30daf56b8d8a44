//! Retrying without doing the work twice: what an error says about whether a script ran, and an
//! idempotent script that makes "maybe" safe to retry.
//!
//! What it relies on: a request that reached the server can run even though its reply never
//! came back (a timeout, a reset connection, a crash after the write was made durable). The
//! caller cannot tell, so `Error::ran` answers `Ran::Maybe` for those, `Ran::No` for refusals
//! (`BUSY`, `OOM`, `LOADING`, ACL, a refused transaction, `NotRun`) and `Ran::Yes` for a script
//! that ran and failed. `No` is always safe to send again; `Maybe` only for a script that
//! records its request id and does nothing the second time. Here the reply is lost for real:
//! `CLIENT PAUSE ... WRITE` holds the script on the server past the client's read timeout, and
//! the server runs it when the pause ends.
//!
//! ```text
//! cargo run -p redis-script-examples --example idempotent_retry
//! ```

mod support;

use std::time::Duration;

use redis_script::{Error, Ran, RedisScript};
use support::check;

/// Charges `cents` once per `request_id` and returns the balance it left (see the Lua file).
#[derive(RedisScript)]
#[redis_script(path = "lua/payments/charge_once.lua", returns = i64)]
struct ChargeOnce<'a> {
    #[key("{{account:{}}}:balance")]
    account: &'a str, // KEYS[1] = "{account:<account>}:balance"
    #[key("{{account:{account}}}:request:{}")]
    request_id: &'a str, // KEYS[2], same slot
    #[arg]
    cents: i64,
    #[arg]
    remember_seconds: u64,
}

/// Charges `cents` every time it runs.
#[derive(RedisScript)]
#[redis_script(path = "lua/payments/charge.lua", returns = i64)]
struct Charge<'a> {
    #[key("{{account:{}}}:balance")]
    account: &'a str,
    #[arg]
    cents: i64,
}

/// The retry rule: send again what did not run; what may have run only when `idempotent`.
fn invoke_with_retries(
    idempotent: bool,
    mut invoke: impl FnMut() -> Result<i64, Error>,
) -> Result<i64, Error> {
    let mut attempts = 1;
    loop {
        let error = match invoke() {
            Ok(balance) => return Ok(balance),
            Err(error) => error,
        };
        let retry = match error.ran() {
            Ran::No => true,
            Ran::Maybe => idempotent,
            // It ran and failed: sending it again would fail again, or do part of it twice.
            Ran::Yes => false,
        };
        println!("  attempt {attempts}: {error} (ran: {:?})", error.ran());
        if !retry || attempts == 8 {
            return Err(error);
        }
        attempts += 1;
        std::thread::sleep(Duration::from_millis(100) * attempts);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut admin = client.get_connection()?;
    let mut connection = client.get_connection()?;
    connection.set_read_timeout(Some(Duration::from_millis(150)))?;
    let balance_key = "{account:ada}:balance";
    redis::cmd("SET")
        .arg(balance_key)
        .arg(10_000)
        .exec(&mut admin)?;
    let _: () = redis::cmd("DEL")
        .arg("{account:ada}:request:r-1")
        .arg("{account:ada}:request:r-2")
        .query(&mut admin)?;
    let pause_writes = |admin: &mut redis::Connection| {
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(600)
            .arg("WRITE")
            .exec(admin)
    };
    let balance = |admin: &mut redis::Connection| -> redis::RedisResult<i64> {
        redis::cmd("GET").arg(balance_key).query(admin)
    };

    println!("an idempotent charge of 25.00, its reply lost to a timeout, retried:");
    let first = ChargeOnce {
        account: "ada",
        request_id: "r-1",
        cents: 2_500,
        remember_seconds: 86_400,
    };
    // Loads the script, so that the paused attempt below is held, not refused with NOSCRIPT.
    let charged = invoke_with_retries(true, || first.invoke(&mut connection))?;
    check(
        "the first request charged once: 7,500 left",
        charged == 7_500,
    )?;
    let second = ChargeOnce {
        request_id: "r-2",
        ..first
    };
    pause_writes(&mut admin)?;
    let retried = invoke_with_retries(true, || second.invoke(&mut connection))?;
    check(
        "every retry of request r-2 answered what its first run did: 5,000",
        retried == 5_000,
    )?;
    check(
        "the balance shows exactly one charge of r-2",
        balance(&mut admin)? == 5_000,
    )?;

    println!("the same retries of a plain DECRBY script:");
    Charge {
        account: "ada",
        cents: 0,
    }
    .invoke(&mut connection)?;
    pause_writes(&mut admin)?;
    let plain = Charge {
        account: "ada",
        cents: 2_500,
    };
    let charged = invoke_with_retries(true, || plain.invoke(&mut connection))?;
    let after = balance(&mut admin)?;
    check(
        "retrying a non-idempotent script after a lost reply charged more than once",
        after < 2_500 && charged == after,
    )?;
    println!(
        "  one charge of 25.00 took {}.{:02}",
        (5_000 - after) / 100,
        (5_000 - after) % 100
    );

    pause_writes(&mut admin)?;
    let small = Charge {
        account: "ada",
        cents: 100,
    };
    let refused = invoke_with_retries(false, || small.invoke(&mut connection));
    check(
        "without idempotency, a lost reply is returned to the caller as Ran::Maybe",
        matches!(&refused, Err(error) if error.ran() == Ran::Maybe),
    )?;
    // The held charge still runs when the pause ends: that is what "maybe" means.
    std::thread::sleep(Duration::from_millis(700));
    check(
        "and the server ran it when the pause ended",
        balance(&mut admin)? == after - 100,
    )?;
    Ok(())
}
