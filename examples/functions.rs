//! Redis 7 Functions: an account library (deposit, withdraw with a balance check, transfer,
//! balance), loaded at start-up and called one at a time and in a pipeline.
//!
//! What it relies on: `FUNCTION LOAD` stores a library on the server, which persists it
//! (RDB/AOF) and replicates it, and `FCALL` calls a function of it by name; `FCALL_RO` calls a
//! `no-writes` function, which replicas may serve. A function runs atomically, like a script,
//! so a balance checked inside it cannot change before the write. A server that lacks the
//! library (a `FUNCTION FLUSH`, a new server) answers `ERR Function not found` and runs
//! nothing, which is what lets a call, or a pipeline of calls, load the library and go again
//! without running anything twice. `libraries::load_libraries` loads every library of the
//! program at start-up and says whether the server already ran other code under the same name.
//!
//! ```text
//! cargo run -p redis-script-examples --example functions
//! ```

mod support;

use redis_script::libraries::{self, LibraryPolicy};
use redis_script::{Error, RedisFunction, ScriptPipeline};
use support::check;

/// Adds `cents` to an account; returns the new balance.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/accounts.lua", function = "acct_deposit", returns = i64)]
struct Deposit<'a> {
    #[key("{{bank}}:acct:{}")]
    account: &'a str,
    #[arg]
    cents: i64,
}

/// Takes `cents` from an account if its balance covers them; returns the new balance.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/accounts.lua", function = "acct_withdraw", returns = i64)]
struct Withdraw<'a> {
    #[key("{{bank}}:acct:{}")]
    account: &'a str,
    #[arg]
    cents: i64,
}

/// Moves `cents` between two accounts of the bank; returns the new balance of `to`.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/accounts.lua", function = "acct_transfer", returns = i64)]
struct Transfer<'a> {
    #[key("{{bank}}:acct:{}")]
    from: &'a str,
    #[key("{{bank}}:acct:{}")]
    to: &'a str,
    #[arg]
    cents: i64,
}

/// An account's balance: `no-writes`, sent as `FCALL_RO`.
#[derive(RedisFunction)]
#[redis_function(library = "lua/functions/accounts.lua", function = "acct_balance", returns = i64)]
struct Balance<'a> {
    #[key("{{bank}}:acct:{}")]
    account: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    redis::cmd("DEL")
        .arg(&["{bank}:acct:ann", "{bank}:acct:ben", "{bank}:acct:cat"])
        .exec(&mut connection)?;

    println!("start-up: load the program's libraries");
    let reports = libraries::load_libraries(&mut connection, LibraryPolicy::Report)?;
    for report in &reports {
        println!("  {}: {:?}", report.library.name, report.state);
    }
    check(
        "the server runs the compiled code of every library",
        reports.iter().all(|report| report.is_current()),
    )?;

    println!("single calls: FCALL, FCALL_RO for the no-writes balance");
    let ann = Deposit {
        account: "ann",
        cents: 10_000,
    }
    .invoke(&mut connection)?;
    check("ann deposits 100.00", ann == 10_000)?;
    let ben = Transfer {
        from: "ann",
        to: "ben",
        cents: 2_500,
    }
    .invoke(&mut connection)?;
    check("ann sends ben 25.00", ben == 2_500)?;
    let refused = Withdraw {
        account: "ben",
        cents: 5_000,
    }
    .invoke(&mut connection);
    println!("  withdraw 50.00 from ben: {refused:?}");
    check(
        "ben cannot withdraw more than he has, and the error comes back typed",
        matches!(&refused, Err(error) if error.code() == Some("INSUFFICIENT")),
    )?;
    let ben = Balance { account: "ben" }.invoke(&mut connection)?;
    check(
        "ben's balance is untouched by the refused withdrawal",
        ben == 2_500,
    )?;

    println!("the library is flushed (a new server, a FUNCTION FLUSH): the next call loads it");
    redis::cmd("FUNCTION").arg("FLUSH").exec(&mut connection)?;
    let cat = Deposit {
        account: "cat",
        cents: 700,
    }
    .invoke(&mut connection)?;
    check(
        "cat's deposit ran once, after the library was loaded again",
        cat == 700,
    )?;

    println!("a pipeline: calls and a plain command, one round trip, typed replies");
    redis::cmd("FUNCTION").arg("FLUSH").exec(&mut connection)?;
    let mut pipeline = ScriptPipeline::new();
    let to_cat = pipeline.invoke_function(&Transfer {
        from: "ann",
        to: "cat",
        cents: 300,
    });
    let ann_after = pipeline.invoke_function(&Balance { account: "ann" });
    let raw = pipeline.command::<i64>(redis::cmd("GET").arg("{bank}:acct:cat"));
    let too_much = pipeline.invoke_function(&Withdraw {
        account: "cat",
        cents: 1_000_000,
    });
    let ben_withdraws = pipeline.invoke_function(&Withdraw {
        account: "ben",
        cents: 500,
    });
    let replies = pipeline.query(&mut connection)?;
    check("cat receives 3.00", replies.get(to_cat)? == 1_000)?;
    check("ann has 72.00 left", replies.get(ann_after)? == 7_200)?;
    check("the plain GET sees cat's 10.00", replies.get(raw)? == 1_000)?;
    check(
        "an overdraft in the pipeline fails alone, in its place",
        matches!(replies.get(too_much), Err(Error::Redis(ref error)) if error.code() == Some("INSUFFICIENT")),
    )?;
    check("ben withdraws 5.00", replies.get(ben_withdraws)? == 2_000)?;
    check(
        "every call ran: none is reported as not run",
        replies.not_run().count() == 0,
    )?;
    let total: i64 = ["ann", "ben", "cat"]
        .iter()
        .map(|account| Balance { account }.invoke(&mut connection))
        .sum::<Result<i64, Error>>()?;
    check(
        "the bank holds what was deposited minus what was withdrawn",
        total == 10_000 + 700 - 500,
    )?;
    Ok(())
}
