use redis_script::{RedisScript, redis};

/// Moves up to `amount` units between two accounts of a bank; returns how many moved.
#[derive(RedisScript)]
#[redis_script(path = "lua/transfer.lua", returns = i64)]
struct Transfer<'a> {
    bank: &'a str,                                   // fills the key templates, not sent
    #[key("{{bank:{bank}}}:acct:{}")] from: &'a str, // KEYS[1] = "{bank:<bank>}:acct:<from>"
    #[key("{{bank:{bank}}}:acct:{}")] to: &'a str,   // KEYS[2], same hash tag: same slot
    #[arg] amount: i64,                              // ARGV[1]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Any Redis 7 or newer: REDIS_URL, or one on this machine's default port.
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let mut connection = redis::Client::open(url)?.get_connection()?;
    redis::cmd("SET").arg("{bank:b1}:acct:alice").arg(20).exec(&mut connection)?;

    let transfer = Transfer { bank: "b1", from: "alice", to: "bob", amount: 5 };
    let moved = transfer.invoke(&mut connection)?; // EVALSHA; SCRIPT LOAD once if not cached
    println!("moved {moved}");
    Ok(())
}
