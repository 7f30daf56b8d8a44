//! Throwaway `redis-server` processes for tests, examples and benchmarks.
//!
//! [`RedisServer`] starts one standalone server and [`RedisCluster`] a
//! six-node cluster (three primaries, three replicas). Every server runs on a
//! free loopback port in its own temporary directory with persistence off, and
//! is killed when its handle is dropped. On Linux servers are also killed when
//! the process that started them dies, even by SIGKILL, so they never outlive
//! a test run. A server on the default port 6379 is never used or needed.
//!
//! Servers kept in a `static` are never dropped: the kernel still kills them
//! when the process exits, but their temporary directories stay behind.
//!
//! The `redis-server` binary (Redis >= 7, or a `valkey-server`) is taken from the
//! `REDIS_SERVER` environment variable, or else from `PATH`; [`server_version`] says which
//! server it is, for tests that expect a server's own wording.
//!
//! # Example
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use throwaway_redis::RedisServer;
//!
//! let server = RedisServer::start()?;
//! let mut con = server.connection()?;
//! redis::cmd("SET").arg("answer").arg(42).exec(&mut con)?;
//! let answer: i64 = redis::cmd("GET").arg("answer").query(&mut con)?;
//! assert_eq!(answer, 42);
//! # Ok(())
//! # }
//! ```

mod binary;
mod cluster;
mod error;
mod process;
mod server;

pub use binary::{ServerKind, ServerVersion, server_version};
pub use cluster::{ClusterNode, Paused, RedisCluster};
pub use error::HarnessError;
pub use server::RedisServer;

#[cfg(test)]
mod tests {
    /// Tests share servers across threads, e.g. through a `static OnceLock`.
    #[test]
    fn handles_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::RedisServer>();
        send_sync::<super::RedisCluster>();
        send_sync::<super::HarnessError>();
    }
}
