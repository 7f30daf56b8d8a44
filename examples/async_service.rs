//! An async service on tokio: many tasks invoke a script concurrently over one connection,
//! first a `MultiplexedConnection`, then a `ConnectionManager`.
//!
//! What it relies on: Redis runs one script at a time, so concurrent invocations never
//! interleave inside a script; a multiplexed connection pipelines every task's commands over one
//! socket and matches replies in order, so it is cloned per task, not pooled.
//! `ConnectionManager` (the `redis-script` feature `connection-manager`) is a multiplexed
//! connection that also reconnects after the server drops it. Either way `invoke_async` sends
//! `EVALSHA` and, when the server's script cache was flushed (a restart, a failover,
//! `SCRIPT FLUSH`), falls back to `EVAL` once per invocation: here the cache is flushed between
//! the two rounds, and no visit is lost or counted twice.
//!
//! ```text
//! cargo run -p redis-script-examples --example async_service
//! ```

mod support;

use redis_script::RedisScript;
use redis_script::redis::aio::{ConnectionLike, ConnectionManager};
use support::check;

/// Counts a visit of `user` to `page`; returns (visits, distinct visitors).
#[derive(RedisScript)]
#[redis_script(path = "lua/service/record_visit.lua", returns = (i64, i64))]
struct RecordVisit<'a> {
    #[key("{{page:{}}}:visits")]
    page: &'a str, // KEYS[1] = "{page:<page>}:visits"
    #[key("{{page:{page}}}:{}")]
    visitors: &'a str, // KEYS[2] = "{page:<page>}:visitors"
    #[arg]
    user: String,
}

const TASKS: usize = 50;
const USERS: usize = 7;

/// `TASKS` concurrent visits by `USERS` users, each task on its own clone of `connection`.
async fn visit_concurrently<C>(connection: &C) -> Result<Vec<(i64, i64)>, redis_script::Error>
where
    C: ConnectionLike + Clone + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let mut connection = connection.clone();
        tasks.spawn(async move {
            let visit = RecordVisit {
                page: "home",
                visitors: "visitors",
                user: format!("user-{}", task % USERS),
            };
            visit.invoke_async(&mut connection).await
        });
    }
    let mut replies = Vec::with_capacity(TASKS);
    while let Some(reply) = tasks.join_next().await {
        replies.push(reply.expect("a visit task panicked")?);
    }
    Ok(replies)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut multiplexed = client.get_multiplexed_async_connection().await?;
    redis::cmd("DEL")
        .arg(&["{page:home}:visits", "{page:home}:visitors"])
        .exec_async(&mut multiplexed)
        .await?;

    println!("{TASKS} tasks share one MultiplexedConnection");
    let replies = visit_concurrently(&multiplexed).await?;
    let mut counts: Vec<i64> = replies.iter().map(|(visits, _)| *visits).collect();
    counts.sort_unstable();
    check(
        "every task saw its own visit count, 1 to 50",
        counts == (1..=TASKS as i64).collect::<Vec<_>>(),
    )?;

    println!("SCRIPT FLUSH: the server forgets the script");
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .exec_async(&mut multiplexed)
        .await?;

    println!("{TASKS} tasks share one ConnectionManager");
    let manager = ConnectionManager::new(client.clone()).await?;
    let replies = visit_concurrently(&manager).await?;
    let (visits, visitors) = replies.iter().copied().max().unwrap_or_default();
    check(
        &format!("after the flush the count went on to {visits}: nothing lost, nothing twice"),
        visits == 2 * TASKS as i64,
    )?;
    check(
        &format!("{visitors} distinct visitors"),
        visitors == USERS as i64,
    )?;
    Ok(())
}
