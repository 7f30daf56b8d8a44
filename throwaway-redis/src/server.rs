use std::ffi::OsString;

use crate::HarnessError;
use crate::process::{self, HOST, PortKind, ServerProcess};

/// One throwaway standalone `redis-server` on a free loopback port.
///
/// It runs in its own temporary directory with persistence off, and is killed
/// (and its directory removed) when dropped. On Linux it is also killed if the
/// process owning it dies, so no servers are orphaned.
///
/// # Example
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = throwaway_redis::RedisServer::start()?;
/// let mut con = server.connection()?;
/// redis::cmd("SET").arg("greeting").arg("hello").exec(&mut con)?;
/// let value: String = redis::cmd("GET").arg("greeting").query(&mut con)?;
/// assert_eq!(value, "hello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RedisServer {
    process: ServerProcess,
}

impl RedisServer {
    /// Starts a server on a free loopback port and waits until it answers PING.
    ///
    /// The server is started with `--bind 127.0.0.1 --protected-mode no
    /// --save "" --appendonly no` in a fresh temporary directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().expect("redis-server");
    /// println!("{}", server.url());
    /// ```
    pub fn start() -> Result<RedisServer, HarnessError> {
        RedisServer::start_with(&[])
    }

    /// Like [`RedisServer::start`], with extra config directives passed as
    /// `--name value` arguments. As in `redis.conf`, a value with several
    /// words is split on whitespace (`("save", "60 1")`); an empty value is
    /// passed as `""`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start_with(&[
    ///     ("maxmemory", "1mb"),
    ///     ("maxmemory-policy", "noeviction"),
    /// ])
    /// .expect("redis-server");
    /// # drop(server);
    /// ```
    pub fn start_with(config: &[(&str, &str)]) -> Result<RedisServer, HarnessError> {
        let process = ServerProcess::start(PortKind::Standalone, &config_arguments(config))?;
        Ok(RedisServer { process })
    }

    /// Like [`RedisServer::start_with`], with `program` instead of the harness's binary
    /// (`REDIS_SERVER` or `redis-server` from `PATH`): for tools that compare several
    /// servers, such as the command-table generator. It must be Redis or Valkey 7 or newer.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start_program("/usr/bin/redis-server", &[])
    ///     .expect("redis-server");
    /// # drop(server);
    /// ```
    pub fn start_program(
        program: impl AsRef<std::ffi::OsStr>,
        config: &[(&str, &str)],
    ) -> Result<RedisServer, HarnessError> {
        let (program, _) = crate::binary::check_binary(Some(program.as_ref()))?;
        let process = ServerProcess::start_program(
            &program,
            PortKind::Standalone,
            &config_arguments(config),
        )?;
        Ok(RedisServer { process })
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().unwrap();
    /// assert_ne!(server.port(), 6379);
    /// ```
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The server's URL, `redis://127.0.0.1:PORT/`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().unwrap();
    /// let client = redis::Client::open(server.url()).unwrap();
    /// # drop(client);
    /// ```
    pub fn url(&self) -> String {
        format!("redis://{HOST}:{}/", self.port())
    }

    /// A client for this server (connects lazily).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().unwrap();
    /// let mut con = server.client().get_connection().unwrap();
    /// # drop(con);
    /// ```
    pub fn client(&self) -> redis::Client {
        process::client(self.port())
    }

    /// A new connection to this server.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().unwrap();
    /// let mut con = server.connection().unwrap();
    /// let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    /// assert_eq!(pong, "PONG");
    /// ```
    pub fn connection(&self) -> Result<redis::Connection, HarnessError> {
        self.client().get_connection().map_err(|e| {
            HarnessError::redis(
                format!("cannot connect to redis-server at {}", self.url()),
                e,
            )
        })
    }

    /// The server's process id.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = throwaway_redis::RedisServer::start().unwrap();
    /// println!("redis-server pid {}", server.pid());
    /// ```
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Kills the server with SIGKILL (no clean shutdown) and waits for it to
    /// exit, e.g. to test how clients cope with a crashed server. Calling it
    /// again, or dropping the server afterwards, is fine.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut server = throwaway_redis::RedisServer::start().unwrap();
    /// server.kill();
    /// assert!(server.connection().is_err());
    /// ```
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// Config directives as `--name value` arguments: as in `redis.conf`, a value with several
/// words is split on whitespace, and an empty value is passed as `""`.
fn config_arguments(config: &[(&str, &str)]) -> Vec<OsString> {
    let mut args = Vec::new();
    for (name, value) in config {
        args.push(OsString::from(format!("--{name}")));
        let words: Vec<&str> = value.split_whitespace().collect();
        if words.is_empty() {
            args.push(OsString::new());
        }
        args.extend(words.into_iter().map(OsString::from));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process_exists(pid: u32) -> bool {
        // A reaped process is gone; a zombie would still have a /proc entry
        // but we always reap ours.
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn set_get_round_trip_and_drop_cleans_up() {
        let server = RedisServer::start().unwrap();
        assert_eq!(
            server.url(),
            format!("redis://127.0.0.1:{}/", server.port())
        );
        let mut con = server.connection().unwrap();
        redis::cmd("SET").arg("k").arg("v").exec(&mut con).unwrap();
        let value: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert_eq!(value, "v");

        let (pid, dir) = (server.pid(), server.process.dir().to_owned());
        assert!(process_exists(pid));
        assert!(dir.join("redis.log").exists());
        drop(server);
        assert!(!process_exists(pid), "redis-server {pid} survived drop");
        assert!(!dir.exists(), "{} survived drop", dir.display());
    }

    #[test]
    fn persistence_is_off_and_config_is_applied() {
        let server = RedisServer::start_with(&[("maxmemory", "1mb"), ("save", "60 1")]).unwrap();
        let mut con = server.connection().unwrap();
        let get = |con: &mut redis::Connection, name: &str| -> String {
            let (_, value): (String, String) = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query(con)
                .unwrap();
            value
        };
        assert_eq!(get(&mut con, "maxmemory"), "1048576");
        assert_eq!(get(&mut con, "save"), "60 1");
        assert_eq!(get(&mut con, "appendonly"), "no");
        assert_eq!(get(&mut con, "bind"), "127.0.0.1");

        let plain = RedisServer::start().unwrap();
        assert_eq!(get(&mut plain.connection().unwrap(), "save"), "");
    }

    #[test]
    fn two_servers_at_once() {
        let a = RedisServer::start().unwrap();
        let b = RedisServer::start().unwrap();
        assert_ne!(a.port(), b.port());
        redis::cmd("SET")
            .arg("k")
            .arg("a")
            .exec(&mut a.connection().unwrap())
            .unwrap();
        let in_b: Option<String> = redis::cmd("GET")
            .arg("k")
            .query(&mut b.connection().unwrap())
            .unwrap();
        assert_eq!(in_b, None);
    }

    #[test]
    fn kill_stops_the_server() {
        let mut server = RedisServer::start().unwrap();
        let pid = server.pid();
        server.kill();
        assert!(!process_exists(pid));
        assert!(server.connection().is_err());
        server.kill(); // idempotent
    }

    #[test]
    fn server_outlives_the_thread_that_started_it() {
        // PR_SET_PDEATHSIG is per thread; a server started from a short-lived
        // thread must keep running (servers are forked from a long-lived thread).
        let server = std::thread::spawn(RedisServer::start)
            .join()
            .unwrap()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let pong: String = redis::cmd("PING")
            .query(&mut server.connection().unwrap())
            .unwrap();
        assert_eq!(pong, "PONG");
    }

    #[test]
    fn bad_config_reports_the_log() {
        let err = RedisServer::start_with(&[("no-such-directive", "1")])
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(message.contains("exited"), "{message}");
        assert!(message.contains("no-such-directive"), "{message}");
    }
}
