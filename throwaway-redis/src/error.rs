use std::fmt;

/// Why a throwaway server or cluster could not be started or queried.
///
/// The message says what went wrong and, where possible, how to fix it
/// (install hint, server log tail, which readiness condition was not met).
///
/// # Example
///
/// ```no_run
/// match throwaway_redis::RedisServer::start() {
///     Ok(server) => println!("listening on {}", server.url()),
///     Err(err) => eprintln!("cannot start redis-server: {err}"),
/// }
/// ```
pub struct HarnessError {
    message: String,
}

impl HarnessError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        HarnessError {
            message: message.into(),
        }
    }

    /// Wraps a `redis` error with what we were doing when it happened.
    pub(crate) fn redis(context: impl fmt::Display, err: redis::RedisError) -> Self {
        HarnessError::new(format!("{context}: {err}"))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// Hand-written so that `.unwrap()` in tests prints the message (which often
// contains a multi-line server log tail) readably instead of escaped.
impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HarnessError: {}", self.message)
    }
}

impl std::error::Error for HarnessError {}
