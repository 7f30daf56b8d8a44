//! Single-flight reloading: after a `SCRIPT FLUSH`, invocations of one script that hit
//! `NOSCRIPT` together share one load instead of each sending the source.
//!
//! The common path pays one atomic load per invocation ([`mark`], read before the
//! `EVALSHA` is sent) and nothing else: no lock, no map lookup, no extra round trip. Only an
//! invocation that got `NOSCRIPT` consults the per-script state (keyed by SHA1, one entry per
//! script for the life of the process), and decides:
//!
//! - a load of the script **completed after it read its mark**, just before sending its
//!   `EVALSHA` (the load's ticket, taken when it completed, is newer than the mark): the script
//!   is most likely back, so send `EVALSHA` again. (The load may have reached the server before
//!   the `EVALSHA` after all, and a flush between them; then the retry costs one more
//!   `NOSCRIPT`, and the next decision, with a newer mark, loads.) Tickets are taken on
//!   completion, not at the start, so that an invocation sent while a load was on its way
//!   never takes that load for an older one and loads a second time;
//! - a load is **in flight**: wait for it (async paths only), then decide again;
//! - otherwise **load it yourself** ([`Loader`]) and tell the others when done.
//!
//! The state is per process, not per connection or server: the `redis` crate's connections
//! have no identity this crate could key on, and one process usually talks to one server per
//! script. A guess that is wrong (two connections to two servers, one of them reloaded) costs
//! one more `NOSCRIPT`, never a lost or doubled run: `NOSCRIPT` always means the script did not
//! run, and every caller bounds its attempts and ends with `EVAL`, which cannot answer
//! `NOSCRIPT`. A loader that is dropped before it finishes (a cancelled future) counts as a
//! failed load, so its waiters wake and decide again rather than waiting forever.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

/// Loads completed so far, by any caller, for any script: each load's ticket.
static LOADS: AtomicU64 = AtomicU64::new(0);

/// How many times one invocation answers `NOSCRIPT` with a load (or a retry after someone
/// else's) before it falls back to `EVAL`, which cannot fail that way: a bound for flush storms.
pub(crate) const MAX_RELOADS: usize = 3;

/// Read before an `EVALSHA` is sent: loads with a newer ticket completed after it.
#[inline]
pub(crate) fn mark() -> u64 {
    LOADS.load(Ordering::SeqCst)
}

#[derive(Default)]
struct State {
    /// The ticket of the newest load of the script that succeeded; 0 for none.
    loaded: u64,
    /// The load in flight that others wait for, by its [`Loader::id`].
    in_flight: Option<u64>,
    waiters: Vec<Waker>,
}

fn states() -> MutexGuard<'static, HashMap<&'static str, State>> {
    static STATES: OnceLock<Mutex<HashMap<&'static str, State>>> = OnceLock::new();
    // A panic while holding this lock leaves plain data behind (counters and wakers), which
    // stays consistent: keep using it.
    STATES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What an invocation that got `NOSCRIPT` does next.
pub(crate) enum Next {
    /// Someone loaded the script after the invocation was sent: send `EVALSHA` again.
    Retry,
    /// Load it (and report with [`Loader::finish`]).
    Load(Loader),
}

/// Ids of loaders, to tell the one waited for from others.
static LOADERS: AtomicU64 = AtomicU64::new(0);

/// The right and duty to load one script; others wait for it.
pub(crate) struct Loader {
    sha1: &'static str,
    id: u64,
    /// Whether others wait for this load (only one load per script is waited for at a time).
    waited_for: bool,
    finished: bool,
}

impl Loader {
    fn start(sha1: &'static str, state: &mut State) -> Loader {
        let id = LOADERS.fetch_add(1, Ordering::Relaxed);
        let waited_for = state.in_flight.is_none();
        if waited_for {
            state.in_flight = Some(id);
        }
        Loader {
            sha1,
            id,
            waited_for,
            finished: false,
        }
    }

    /// Reports the load's outcome and wakes the waiters.
    pub(crate) fn finish(mut self, loaded: bool) {
        self.report(loaded);
    }

    fn report(&mut self, loaded: bool) {
        if self.finished {
            return;
        }
        self.finished = true;
        let waiters = {
            let mut states = states();
            let state = states.entry(self.sha1).or_default();
            if loaded {
                state.loaded = LOADS.fetch_add(1, Ordering::SeqCst) + 1;
            }
            if self.waited_for && state.in_flight == Some(self.id) {
                state.in_flight = None;
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            }
        };
        for waker in waiters {
            waker.wake();
        }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.report(false);
    }
}

/// For each script of `scripts` (distinct SHA1s) that this process never loaded, a [`Loader`]:
/// plain pipelines that mix scripts load those up front, once per process, so that a script
/// that was never on the server does not fail with `NOSCRIPT` next to one that is (which could
/// not be sent again in order). After that, scripts leave the cache together (a flush, a
/// restart, a failover empties it) and come back through the recovery.
pub(crate) fn first_loads(
    scripts: impl Iterator<Item = &'static str>,
) -> Vec<(&'static str, Loader)> {
    let mut states = states();
    let mut loaders = Vec::new();
    for sha1 in scripts {
        let state = states.entry(sha1).or_default();
        if state.loaded == 0 {
            loaders.push((sha1, Loader::start(sha1, state)));
        }
    }
    loaders
}

/// Forgets that this process loaded `sha1`: an invocation of it was answered `NOSCRIPT` while
/// another script ran after it, so this server lacks it while it has others (a server this
/// process never loaded it on). The next mixed pipeline loads it up front again.
pub(crate) fn forget(sha1: &'static str) {
    if let Some(state) = states().get_mut(sha1) {
        state.loaded = 0;
    }
}

/// For synchronous callers, which cannot wait: retry if a load completed since `mark`,
/// otherwise load (also while another load is in flight).
pub(crate) fn after_noscript(sha1: &'static str, mark: u64) -> Next {
    let mut states = states();
    let state = states.entry(sha1).or_default();
    if state.loaded > mark {
        Next::Retry
    } else {
        Next::Load(Loader::start(sha1, state))
    }
}

/// For asynchronous callers: retry if a load completed since `mark`, wait for a load in
/// flight, otherwise load.
pub(crate) fn after_noscript_async(sha1: &'static str, mark: u64) -> AfterNoscript {
    AfterNoscript { sha1, mark }
}

pub(crate) struct AfterNoscript {
    sha1: &'static str,
    mark: u64,
}

impl Future for AfterNoscript {
    type Output = Next;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Next> {
        let mut states = states();
        let state = states.entry(self.sha1).or_default();
        if state.loaded > self.mark {
            return Poll::Ready(Next::Retry);
        }
        if state.in_flight.is_some() {
            if !state
                .waiters
                .iter()
                .any(|known| known.will_wake(cx.waker()))
            {
                state.waiters.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        Poll::Ready(Next::Load(Loader::start(self.sha1, state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_after_the_send_means_retry_and_one_before_means_load() {
        let sha1 = "flight-test-1";
        let before = mark();
        let Next::Load(loader) = after_noscript(sha1, before) else {
            panic!("nobody loaded yet")
        };
        loader.finish(true);
        assert!(matches!(after_noscript(sha1, before), Next::Retry));
        // Sent after that load: a NOSCRIPT now means another flush.
        match after_noscript(sha1, mark()) {
            Next::Load(loader) => loader.finish(false),
            Next::Retry => panic!("the load was before the send"),
        }
    }

    #[test]
    fn a_dropped_loader_frees_its_waiters() {
        let sha1 = "flight-test-2";
        let Next::Load(loader) = after_noscript(sha1, mark()) else {
            panic!()
        };
        drop(loader);
        let states = states();
        let state = &states[sha1];
        assert_eq!((state.in_flight, state.loaded), (None, 0));
    }
}
