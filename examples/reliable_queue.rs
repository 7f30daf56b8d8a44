//! A reliable queue: a job popped by a worker that dies is not lost but requeued.
//!
//! What it relies on: `LMOVE` moves the job from the queue to a processing list in one step, so
//! at every instant the job is in one of the two lists; the script also records a deadline in a
//! sorted set in the same atomic step, so there is no window where a job is in processing with
//! no deadline. A worker acknowledges (`LREM` + `ZREM`); a sweeper moves jobs whose deadline
//! passed back to the queue, which is at-least-once delivery: jobs must be idempotent, and ids
//! unique (`LREM` removes by value). Producers `LPUSH`; workers pop from the right, so the queue
//! is FIFO and a requeued job (`RPUSH`) is the next one handed out. All three keys share the
//! hash tag `{q:<name>}`, so this works unchanged on a cluster.
//!
//! ```text
//! cargo run -p redis-script-examples --example reliable_queue
//! ```

mod support;

use std::time::Duration;

use redis_script::RedisScript;
use support::check;

/// Moves the oldest job to processing with a deadline of `visibility_ms`; `None` when empty.
#[derive(RedisScript)]
#[redis_script(path = "lua/queue/pop.lua", returns = Option<String>)]
struct Pop<'a> {
    #[key("{{q:{}}}:pending")]
    queue: &'a str, // KEYS[1] = "{q:<queue>}:pending"
    #[key("{{q:{queue}}}:{}")]
    processing: &'a str, // KEYS[2] = "{q:<queue>}:processing"
    #[key("{{q:{queue}}}:{}")]
    deadlines: &'a str, // KEYS[3] = "{q:<queue>}:deadlines"
    #[arg]
    visibility_ms: u64,
}

/// Acknowledges `job`: 1 if it was being processed, 0 otherwise.
#[derive(RedisScript)]
#[redis_script(path = "lua/queue/ack.lua", returns = i64)]
struct Ack<'a> {
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    processing: &'a str,
    #[key("{{q:{queue}}}:{}")]
    deadlines: &'a str,
    #[arg]
    job: &'a str,
}

/// Moves jobs past their deadline back to the queue; returns how many.
#[derive(RedisScript)]
#[redis_script(path = "lua/queue/requeue_expired.lua", returns = i64)]
struct RequeueExpired<'a> {
    #[key("{{q:{}}}:pending")]
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    processing: &'a str,
    #[key("{{q:{queue}}}:{}")]
    deadlines: &'a str,
}

const QUEUE: &str = "emails";

fn pop(
    connection: &mut redis::Connection,
    visibility_ms: u64,
) -> Result<Option<String>, redis_script::Error> {
    Pop {
        queue: QUEUE,
        processing: "processing",
        deadlines: "deadlines",
        visibility_ms,
    }
    .invoke(connection)
}

fn ack(connection: &mut redis::Connection, job: &str) -> Result<i64, redis_script::Error> {
    Ack {
        queue: QUEUE,
        processing: "processing",
        deadlines: "deadlines",
        job,
    }
    .invoke(connection)
}

fn requeue(connection: &mut redis::Connection) -> Result<i64, redis_script::Error> {
    RequeueExpired {
        queue: QUEUE,
        processing: "processing",
        deadlines: "deadlines",
    }
    .invoke(connection)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    redis::cmd("DEL")
        .arg(&[
            "{q:emails}:pending",
            "{q:emails}:processing",
            "{q:emails}:deadlines",
        ])
        .exec(&mut connection)?;
    redis::cmd("LPUSH")
        .arg("{q:emails}:pending")
        .arg(&["job-1", "job-2", "job-3"])
        .exec(&mut connection)?;
    println!("queued job-1, job-2, job-3");

    let first = pop(&mut connection, 5_000)?;
    check(
        &format!("worker A gets {first:?} first"),
        first.as_deref() == Some("job-1"),
    )?;
    check(
        "worker A acknowledges it",
        ack(&mut connection, "job-1")? == 1,
    )?;

    let second = pop(&mut connection, 100)?;
    check(
        &format!("worker B gets {second:?}, then crashes"),
        second.as_deref() == Some("job-2"),
    )?;
    let third = pop(&mut connection, 5_000)?;
    check(
        &format!("worker A gets {third:?}"),
        third.as_deref() == Some("job-3"),
    )?;
    check(
        "worker A acknowledges it",
        ack(&mut connection, "job-3")? == 1,
    )?;
    check(
        "nothing is requeued before job-2's deadline",
        requeue(&mut connection)? == 0,
    )?;

    std::thread::sleep(Duration::from_millis(150));
    check(
        "after its deadline the sweeper requeues job-2",
        requeue(&mut connection)? == 1,
    )?;
    let again = pop(&mut connection, 5_000)?;
    check(
        &format!("worker A gets {again:?} again"),
        again.as_deref() == Some("job-2"),
    )?;
    check(
        "worker A acknowledges it",
        ack(&mut connection, "job-2")? == 1,
    )?;
    check(
        "a second acknowledgement is a no-op",
        ack(&mut connection, "job-2")? == 0,
    )?;

    check("the queue is empty", pop(&mut connection, 5_000)?.is_none())?;
    let processing: i64 = redis::cmd("LLEN")
        .arg("{q:emails}:processing")
        .query(&mut connection)?;
    check("nothing is left in processing", processing == 0)?;
    Ok(())
}
