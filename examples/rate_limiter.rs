//! A sliding-window rate limiter: at most `limit` requests in any window of `window_ms`.
//!
//! What it relies on: a sorted set per client logs its requests scored by time, so trimming the
//! entries older than the window (`ZREMRANGEBYSCORE`) and counting the rest (`ZCARD`) gives the
//! exact count over the last `window_ms`, with no burst at window edges as fixed-window
//! counters have. Trim, count and add must be one atomic step, or two concurrent requests could
//! both see `limit - 1` and both pass; a script is. The time comes from the server (`TIME`,
//! which scripts may call since Redis 5 replicates their effects, not the script), so clients
//! with skewed clocks share one window. `PEXPIRE` drops the log of an idle client.
//!
//! ```text
//! cargo run -p redis-script-examples --example rate_limiter
//! ```

mod support;

use std::time::Duration;

use redis_script::RedisScript;
use support::check;

/// Logs `request_id` for `client` if allowed: `(1, left)` or `(0, retry_after_ms)`.
#[derive(RedisScript)]
#[redis_script(path = "lua/rate_limiter/sliding_window.lua", returns = (i64, i64))]
struct Limit<'a> {
    #[key("ratelimit:{}")]
    client: &'a str, // KEYS[1] = "ratelimit:<client>"
    #[arg]
    window_ms: u64,
    #[arg]
    limit: u32,
    #[arg]
    request_id: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    redis::cmd("DEL")
        .arg("ratelimit:api-key-7")
        .exec(&mut connection)?;

    let mut request = 0;
    let mut send = |connection: &mut redis::Connection| {
        request += 1;
        let id = format!("req-{request}");
        Limit {
            client: "api-key-7",
            window_ms: 1_000,
            limit: 5,
            request_id: &id,
        }
        .invoke(connection)
    };

    println!("limit: 5 requests per second; 7 requests arrive at once");
    let mut allowed = 0;
    let mut retry_after = 0;
    for _ in 0..7 {
        match send(&mut connection)? {
            (1, left) => {
                allowed += 1;
                println!("    allowed, {left} left in this window");
            }
            (_, wait) => {
                retry_after = wait;
                println!("    refused, retry in {wait} ms");
            }
        }
    }
    check("5 of 7 were allowed", allowed == 5)?;
    check(
        &format!("the refusal says when to retry ({retry_after} ms)"),
        retry_after > 0 && retry_after <= 1_000,
    )?;

    println!("waiting {retry_after} ms, until the first request leaves the window");
    std::thread::sleep(Duration::from_millis(retry_after as u64 + 20));
    let (verdict, _) = send(&mut connection)?;
    check("a request is allowed again", verdict == 1)?;
    let logged: i64 = redis::cmd("ZCARD")
        .arg("ratelimit:api-key-7")
        .query(&mut connection)?;
    check(
        &format!("the window holds {logged} request(s), at most 5"),
        logged <= 5,
    )?;
    Ok(())
}
