//! The README's first example, run as written: `readme_transfer.rs` is the README's code block
//! byte for byte (the `readme` test of `redis-script-tests` keeps the two equal), and this file
//! only gives it a server when `REDIS_URL` is not set.
//!
//! What it relies on: a script runs atomically, so the balance read and the two updates cannot
//! interleave with another transfer; both keys carry the hash tag `{bank:<bank>}`, so they are
//! in one cluster slot and the script runs unchanged on a Redis Cluster.
//!
//! ```text
//! cargo run -p redis-script-examples --example transfer
//! ```

mod readme {
    // The README's code, verbatim (rustfmt does not reformat an included file, so its
    // README-friendly layout stays).
    include!("readme_transfer.rs");

    pub fn run() -> Result<(), Box<dyn std::error::Error>> {
        main()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _server = match std::env::var_os("REDIS_URL") {
        Some(_) => None,
        None => {
            let server = throwaway_redis::RedisServer::start()?;
            println!("started a throwaway redis-server on {}", server.url());
            // SAFETY: no other thread of this program reads or writes the environment.
            unsafe { std::env::set_var("REDIS_URL", server.url()) };
            Some(server)
        }
    };
    readme::run()?;

    let url = std::env::var("REDIS_URL")?;
    let mut connection = redis::Client::open(url)?.get_connection()?;
    let balances: Vec<i64> = redis::cmd("MGET")
        .arg(&["{bank:b1}:acct:alice", "{bank:b1}:acct:bob"])
        .query(&mut connection)?;
    println!("alice and bob now hold {balances:?}");
    if balances.len() != 2 || balances[0] != 15 || balances[1] < 5 {
        return Err(format!("expected alice 15 and bob at least 5, found {balances:?}").into());
    }
    Ok(())
}
