//! `invoke_async` on the smol runtime (feature `smol`), outside any tokio runtime: the `redis`
//! crate then runs its connection on smol. Included by the README's test command,
//! `cargo test --workspace --all-features`.

use redis_script::{Error, RedisScript};

#[derive(RedisScript)]
#[redis_script(path = "lua/doc_incr.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

#[test]
fn invokes_on_smol_through_a_flushed_cache() -> Result<(), Error> {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let client = redis::Client::open(server.url())?;
    smol::block_on(async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        let mut counts = Vec::new();
        for _ in 0..3 {
            counts.push(Incr { counter: "c" }.invoke_async(&mut connection).await?);
            let _: () = redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query_async(&mut connection)
                .await?;
        }
        assert_eq!(counts, [1, 2, 3]);
        let evals: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut connection)
            .await?;
        let calls = |command: &str| {
            evals
                .lines()
                .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
                .and_then(|rest| rest.split(',').next())
                .and_then(|calls| calls.parse::<u32>().ok())
        };
        // Every call after a flush answered NOSCRIPT, then ran once after SCRIPT LOAD, pipelined
        // with its EVALSHA.
        assert_eq!(calls("script|load"), Some(3), "{evals}");
        assert_eq!(calls("evalsha"), Some(6), "{evals}");
        assert_eq!(calls("eval"), None, "{evals}");
        Ok(())
    })
}
