//! What every standalone example shares: the server it runs against (`REDIS_URL` when it is
//! set, otherwise a throwaway `redis-server` on a free loopback port, stopped when the returned
//! handle drops) and a check that prints each claim and fails the example when one is false.

use throwaway_redis::RedisServer;

/// A client for `REDIS_URL`, or for a throwaway server whose handle must be kept alive.
pub fn client() -> Result<(redis::Client, Option<RedisServer>), Box<dyn std::error::Error>> {
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            println!("using REDIS_URL={url}");
            Ok((redis::Client::open(url)?, None))
        }
        Err(_) => {
            let server = RedisServer::start()?;
            println!("started a throwaway redis-server on {}", server.url());
            Ok((server.client(), Some(server)))
        }
    }
}

/// Prints `what` and fails when it does not hold, so that CI catches an example that no
/// longer shows what it claims.
pub fn check(what: &str, holds: bool) -> Result<(), Box<dyn std::error::Error>> {
    println!("  {} {what}", if holds { "ok  " } else { "FAIL" });
    if holds {
        Ok(())
    } else {
        Err(format!("not as expected: {what}").into())
    }
}
