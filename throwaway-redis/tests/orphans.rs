//! Servers must not outlive the process that started them, even if it is
//! killed with SIGKILL (no destructors run). Linux only: relies on
//! PR_SET_PDEATHSIG.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const HELPER_ENV: &str = "THROWAWAY_REDIS_ORPHAN_HELPER";

/// Run by `servers_die_with_their_process` in a child process: starts a
/// server, reports its pid and waits to be killed.
#[test]
#[ignore = "helper process for servers_die_with_their_process"]
fn orphan_helper() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    // Started from a short-lived thread on purpose: the server must survive
    // the thread and die only with the process.
    let server = std::thread::spawn(throwaway_redis::RedisServer::start)
        .join()
        .unwrap()
        .unwrap();
    // libtest may have printed "test orphan_helper ... " without a newline.
    println!("\nREDIS_PID {}", server.pid());
    sleep(Duration::from_secs(30));
}

/// Alive, i.e. not reaped by us (we are its subreaper) and not a zombie.
fn running(pid: u32) -> bool {
    // SAFETY: plain syscall; WNOHANG never blocks.
    let reaped = unsafe { libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), libc::WNOHANG) };
    if reaped == pid as libc::pid_t {
        return false;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn servers_die_with_their_process() {
    // Orphans are reparented to us rather than to init (which may never reap
    // them in a container), so we can reap the killed server.
    // SAFETY: plain syscall affecting only this process.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) }, 0);
    // The helper's server directory is left behind when it is killed; keep it in ours.
    let tmp = tempfile::tempdir().unwrap();
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphan_helper",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, "1")
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    let pid: u32 = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| Some(line.strip_prefix("REDIS_PID ")?.trim().parse().unwrap()))
        .expect("the helper did not report a redis-server pid");
    assert!(running(pid));

    helper.kill().unwrap(); // SIGKILL: no destructors run
    helper.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        assert!(
            Instant::now() < deadline,
            "redis-server {pid} outlived its parent"
        );
        sleep(Duration::from_millis(20));
    }
}
