//! Pipelines and transactions of scripts, mixed with ordinary commands, with typed replies.
//!
//! What it relies on: a pipeline sends many commands before reading any reply, so N
//! invocations cost one round trip instead of N. An `EVALSHA` in a pipeline answers `NOSCRIPT`
//! if the server's script cache was flushed (restart, failover, `SCRIPT FLUSH`), and the
//! commands after it have already run, so retrying it would reorder work: `ScriptPipeline`
//! therefore sends `EVAL`, which cannot answer `NOSCRIPT`. `MULTI`/`EXEC` runs a transaction's
//! commands with nothing from other clients in between, so `ScriptTransaction` can send
//! `SCRIPT LOAD` once and then the short `EVALSHA`s safely. `PipelineExt` adds invocations to
//! a plain `redis::Pipeline`. Every reply is read through a typed ticket.
//!
//! ```text
//! cargo run -p redis-script-examples --example pipeline
//! ```

mod support;

use redis_script::{PipelineExt, RedisScript, ScriptPipeline, ScriptTransaction};
use support::check;

/// Reserves `seat` of `show` for `guest`; returns 1 if reserved, 0 if taken.
#[derive(RedisScript)]
#[redis_script(path = "lua/pipeline/reserve_seat.lua", returns = i64)]
struct ReserveSeat<'a> {
    #[key("{{show:{}}}:seats")]
    show: &'a str, // KEYS[1] = "{show:<show>}:seats"
    #[key("{{show:{show}}}:{}")]
    count: &'a str, // KEYS[2] = "{show:<show>}:<count>"
    #[arg]
    seat: &'a str,
    #[arg]
    guest: &'a str,
}

fn reserve<'a>(seat: &'a str, guest: &'a str) -> ReserveSeat<'a> {
    ReserveSeat {
        show: "hamlet",
        count: "reserved",
        seat,
        guest,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    redis::cmd("DEL")
        .arg(&["{show:hamlet}:seats", "{show:hamlet}:reserved"])
        .exec(&mut connection)?;
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut connection)?;
    println!("the script cache is empty: a plain EVALSHA would answer NOSCRIPT");

    println!("ScriptPipeline: 3 reservations and a GET, one round trip");
    let mut pipeline = ScriptPipeline::new();
    let a1 = pipeline.invoke(&reserve("A1", "ann"));
    let a2 = pipeline.invoke(&reserve("A2", "ben"));
    let again = pipeline.invoke(&reserve("A1", "cat"));
    let count = pipeline.command::<i64>(redis::cmd("GET").arg("{show:hamlet}:reserved"));
    let replies = pipeline.query(&mut connection)?;
    check(
        "ann gets A1, ben gets A2",
        replies.get(a1)? == 1 && replies.get(a2)? == 1,
    )?;
    check("cat cannot take A1", replies.get(again)? == 0)?;
    check(
        "the GET after them sees 2 reservations",
        replies.get(count)? == 2,
    )?;

    println!("ScriptTransaction: reservations and a read in one MULTI/EXEC");
    let mut transaction = ScriptTransaction::new();
    let b1 = transaction.invoke(&reserve("B1", "dan"));
    let b2 = transaction.invoke(&reserve("B2", "eve"));
    let seats = transaction.command::<Vec<String>>(redis::cmd("HKEYS").arg("{show:hamlet}:seats"));
    let Some(replies) = transaction.query(&mut connection)? else {
        return Err("the transaction was aborted, though nothing was WATCHed".into());
    };
    check(
        "dan gets B1, eve gets B2",
        replies.get(b1)? == 1 && replies.get(b2)? == 1,
    )?;
    let mut seats = replies.get(seats)?;
    seats.sort();
    check(
        &format!("inside the transaction the map already holds {seats:?}"),
        seats == ["A1", "A2", "B1", "B2"],
    )?;

    println!("PipelineExt: invocations in a redis::Pipeline, here atomic()");
    let mut pipe = redis::pipe();
    pipe.atomic()
        .eval_script(&reserve("C1", "fay"))
        .eval_script(&reserve("B1", "gus"))
        .cmd("HGET")
        .arg("{show:hamlet}:seats")
        .arg("B1");
    let (fay, gus, b1_guest): (i64, i64, String) = pipe.query(&mut connection)?;
    check(
        "fay gets C1; gus cannot take B1 from dan",
        fay == 1 && gus == 0 && b1_guest == "dan",
    )?;

    let reserved: i64 = redis::cmd("GET")
        .arg("{show:hamlet}:reserved")
        .query(&mut connection)?;
    check(
        &format!("{reserved} seats reserved, none twice"),
        reserved == 5,
    )?;
    Ok(())
}
