//! One redis-server child process: port selection, spawning, readiness, killing.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{HarnessError, binary};

pub(crate) const HOST: &str = "127.0.0.1";
const LOG_FILE: &str = "redis.log";
/// Tries before giving up when other processes keep grabbing our candidate ports.
const PORT_ATTEMPTS: usize = 20;
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const READY_POLL: Duration = Duration::from_millis(10);
/// Short, so that a port held by something that never answers costs little.
const PROBE_TIMEOUT: Duration = Duration::from_millis(250);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Loopback only, nothing written to disk, stays in the foreground so that
/// we own the process.
const BASE_OPTIONS: [(&str, &str); 5] = [
    ("--bind", HOST),
    ("--protected-mode", "no"),
    ("--daemonize", "no"),
    ("--save", ""),
    ("--appendonly", "no"),
];
/// Redis cluster nodes also listen on port + 10000 (the cluster bus).
const CLUSTER_BUS_OFFSET: u16 = 10000;

/// How to choose a candidate port.
#[derive(Clone, Copy)]
pub(crate) enum PortKind {
    /// Any free port the OS hands out.
    Standalone,
    /// A free port whose cluster-bus port (port + 10000) is free too.
    Cluster,
}

impl PortKind {
    fn pick(self) -> Result<u16, HarnessError> {
        match self {
            PortKind::Standalone => TcpListener::bind((HOST, 0))
                .and_then(|listener| listener.local_addr())
                .map(|addr| addr.port())
                .map_err(|e| HarnessError::new(format!("cannot bind a loopback port: {e}"))),
            PortKind::Cluster => {
                // The OS only hands out single ports, so probe random pairs in a
                // range where port + 10000 stays valid.
                (0..1000)
                    .map(|_| 20000 + (random() % 30000) as u16)
                    .find(|&port| bindable(port) && bindable(port + CLUSTER_BUS_OFFSET))
                    .ok_or_else(|| {
                        HarnessError::new(
                            "no free loopback port pair (p, p+10000) with p in 20000..50000",
                        )
                    })
            }
        }
    }
}

fn bindable(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A running redis-server in its own temporary directory; killed on drop.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    // A Mutex so that liveness can be checked through `&self`.
    child: Mutex<Child>,
    pid: u32,
    port: u16,
    // Removed when dropped, which is after `Drop::drop` has killed the process.
    dir: TempDir,
}

impl ServerProcess {
    /// Starts redis-server with persistence off plus the `extra` arguments and
    /// waits until it answers PING; retries on another port if the chosen one
    /// was taken in the meantime (e.g. by a concurrently running test binary).
    pub(crate) fn start(ports: PortKind, extra: &[OsString]) -> Result<Self, HarnessError> {
        Self::start_program(binary::redis_server()?, ports, extra)
    }

    /// [`ServerProcess::start`] with another binary than the harness's.
    pub(crate) fn start_program(
        program: &OsStr,
        ports: PortKind,
        extra: &[OsString],
    ) -> Result<Self, HarnessError> {
        for _ in 0..PORT_ATTEMPTS {
            if let Some(process) = Self::start_on(program, ports.pick()?, extra)? {
                return Ok(process);
            }
        }
        Err(HarnessError::new(format!(
            "redis-server could not bind a port in {PORT_ATTEMPTS} attempts: every free \
             candidate was taken by another process before redis-server started"
        )))
    }

    /// `Ok(None)` if the port turned out to be in use.
    fn start_on(
        program: &OsStr,
        port: u16,
        extra: &[OsString],
    ) -> Result<Option<Self>, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("throwaway-redis-")
            .tempdir()
            .map_err(|e| {
                HarnessError::new(format!(
                    "cannot create a temporary directory for redis-server: {e} (is TMPDIR writable?)"
                ))
            })?;
        let log_path = dir.path().join(LOG_FILE);
        let (stdout, stderr) = File::create(&log_path)
            .and_then(|log| Ok((log.try_clone()?, log)))
            .map_err(|e| HarnessError::new(format!("cannot create {}: {e}", log_path.display())))?;
        let mut command = Command::new(program);
        command
            .arg("--port")
            .arg(port.to_string())
            .args(BASE_OPTIONS.iter().flat_map(|&(name, value)| [name, value]))
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let child = spawn(command).map_err(|e| {
            HarnessError::new(format!(
                "cannot start {}: {e}",
                Path::new(program).display()
            ))
        })?;
        let process = ServerProcess {
            pid: child.id(),
            child: Mutex::new(child),
            port,
            dir,
        };
        Ok(process.wait_until_ready()?.then_some(process))
    }

    /// Polls PING; `Ok(false)` if the server exited because the port was taken.
    fn wait_until_ready(&self) -> Result<bool, HarnessError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.exit_status() {
                if self.log().contains("Address already in use") {
                    return Ok(false);
                }
                return Err(HarnessError::new(format!(
                    "redis-server on port {} exited ({status}) before accepting connections.\n{}",
                    self.port,
                    self.log_tail()
                )));
            }
            if self.answers_ping() {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::new(format!(
                    "redis-server on port {} did not answer PING within {READY_TIMEOUT:?}.\n{}",
                    self.port,
                    self.log_tail()
                )));
            }
            thread::sleep(READY_POLL);
        }
    }

    /// True if *our* process answers: while ours is still failing to bind,
    /// the port may belong to someone else's server.
    fn answers_ping(&self) -> bool {
        let Ok(mut con) = connect(self.port, PROBE_TIMEOUT) else {
            return false;
        };
        let pong: redis::RedisResult<String> = redis::cmd("PING").query(&mut con);
        let info: redis::RedisResult<String> = redis::cmd("INFO").arg("server").query(&mut con);
        matches!(pong.as_deref(), Ok("PONG"))
            && info.is_ok_and(|info| {
                info_field(&info, "process_id").and_then(|pid| pid.parse().ok()) == Some(self.pid)
            })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn exit_status(&self) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.try_wait().ok().flatten()
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.exit_status().is_none()
    }

    /// Sends `signal` (SIGSTOP, SIGCONT) to the server if it still runs; whether it was sent.
    /// Under the child's lock, so that a reaped pid (which the kernel may reuse) is never
    /// signalled.
    pub(crate) fn signal(&self, signal: libc::c_int) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        let Ok(pid) = libc::pid_t::try_from(child.id()) else {
            return false;
        };
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our own unreaped child.
        unsafe { libc::kill(pid, signal) == 0 }
    }

    /// SIGKILL and reap; a no-op if it already exited.
    pub(crate) fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        // Errors only mean "already dead"; `wait` then returns the saved status.
        let _ = child.kill();
        let _ = child.wait();
    }

    fn log(&self) -> String {
        let bytes = std::fs::read(self.dir.path().join(LOG_FILE)).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The end of the server log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        format!(
            "Last lines of the redis-server log (port {}):\n{tail}",
            self.port
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `redis::Client` for a loopback port.
pub(crate) fn client(port: u16) -> redis::Client {
    let addr = redis::ConnectionAddr::Tcp(HOST.to_owned(), port);
    redis::Client::open(addr).expect("a TCP address is always valid connection info")
}

/// A connection with timeouts, so that a stopped or wedged node cannot hang us.
pub(crate) fn admin_connection(port: u16) -> redis::RedisResult<redis::Connection> {
    connect(port, COMMAND_TIMEOUT)
}

fn connect(port: u16, timeout: Duration) -> redis::RedisResult<redis::Connection> {
    let con = client(port).get_connection_with_timeout(timeout)?;
    con.set_read_timeout(Some(timeout))?;
    con.set_write_timeout(Some(timeout))?;
    Ok(con)
}

/// The value of `key:value` in INFO-style output.
pub(crate) fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `command` from one long-lived thread. PR_SET_PDEATHSIG fires when the
/// *thread* that forked the child exits, not the process, so forking from a
/// test's own thread would kill servers that outlive it (e.g. shared in a static).
fn spawn(mut command: Command) -> io::Result<Child> {
    die_with_parent(&mut command);
    let gone = || io::Error::other("the throwaway-redis spawner thread is gone");
    let (reply, result) = mpsc::channel();
    spawner()?.send((command, reply)).map_err(|_| gone())?;
    result.recv().map_err(|_| gone())?
}

fn spawner() -> io::Result<&'static mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    if let Some(sender) = SPAWNER.get() {
        return Ok(sender);
    }
    let (sender, requests) = mpsc::channel::<SpawnRequest>();
    thread::Builder::new()
        .name("throwaway-redis-spawner".into())
        .spawn(move || {
            for (mut command, reply) in requests {
                let _ = reply.send(command.spawn());
            }
        })?;
    // If another thread won the race, our sender is dropped and our thread ends.
    Ok(SPAWNER.get_or_init(|| sender))
}

/// Makes the kernel SIGKILL the server when this process dies, even by SIGKILL
/// or a panic that skips destructors, so no orphan servers are left behind.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the hook runs between fork and exec, and only calls prctl and
    // getppid, which are async-signal-safe and do not allocate.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> &'static OsStr {
        binary::redis_server().unwrap()
    }

    #[test]
    fn taken_port_is_reported_for_retry() {
        let listener = TcpListener::bind((HOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(
            ServerProcess::start_on(program(), port, &[])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn port_held_by_another_redis_is_not_mistaken_for_ours() {
        let theirs = ServerProcess::start(PortKind::Standalone, &[]).unwrap();
        assert!(
            ServerProcess::start_on(program(), theirs.port(), &[])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn cluster_ports_leave_room_for_the_bus() {
        for _ in 0..20 {
            let port = PortKind::Cluster.pick().unwrap();
            assert!((20000..50000).contains(&port));
        }
    }

    #[test]
    fn many_servers_in_parallel() {
        let servers: Vec<ServerProcess> = thread::scope(|scope| {
            let starts: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| ServerProcess::start(PortKind::Standalone, &[])))
                .collect();
            starts
                .into_iter()
                .map(|s| s.join().unwrap().unwrap())
                .collect()
        });
        let ports: std::collections::HashSet<u16> = servers.iter().map(|s| s.port()).collect();
        assert_eq!(ports.len(), 8);
        assert!(servers.iter().all(ServerProcess::is_alive));
    }
}
