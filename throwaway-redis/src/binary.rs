//! Locating `redis-server` (or `valkey-server`) and checking that it is recent enough.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::HarnessError;

const INSTALL_HINT: &str = "Install Redis >= 7: sudo apt-get install -y redis-server (Debian/Ubuntu), brew install redis (macOS).";

/// Which server a binary is: Redis or Valkey, which word some replies differently.
///
/// ```no_run
/// use throwaway_redis::{ServerKind, server_version};
///
/// let server = server_version().expect("a server binary");
/// let loading = match server.kind {
///     ServerKind::Redis => "Redis is loading the dataset in memory",
///     ServerKind::Valkey => "Valkey is loading the dataset in memory",
/// };
/// # let _ = loading;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `redis-server`.
    Redis,
    /// `valkey-server`.
    Valkey,
}

/// The kind and version of the server binary the harness runs.
///
/// ```no_run
/// let server = throwaway_redis::server_version().expect("a server binary");
/// assert!(server.major >= 7);
/// println!("testing against {:?} {}", server.kind, server.version);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerVersion {
    /// Redis or Valkey.
    pub kind: ServerKind,
    /// The full version, e.g. `7.0.15`.
    pub version: String,
    /// The major version, e.g. 7.
    pub major: u32,
}

/// The server binary the harness runs (`$REDIS_SERVER`, else `redis-server` from `PATH`):
/// what it is and which version, so that tests can expect each server's own wording.
///
/// ```no_run
/// let server = throwaway_redis::server_version().expect("a server binary");
/// println!("{:?} {}", server.kind, server.version);
/// ```
pub fn server_version() -> Result<ServerVersion, HarnessError> {
    found().map(|(_, version)| version.clone())
}

/// The `redis-server` to run: `$REDIS_SERVER`, else `redis-server` from PATH.
/// Checked once per process, since every server start needs it.
pub(crate) fn redis_server() -> Result<&'static OsStr, HarnessError> {
    found().map(|(program, _)| program.as_os_str())
}

fn found() -> Result<&'static (OsString, ServerVersion), HarnessError> {
    static FOUND: OnceLock<Result<(OsString, ServerVersion), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let configured = std::env::var_os("REDIS_SERVER");
            check_binary(configured.as_deref()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| HarnessError::new(message.clone()))
}

/// Checks that `configured` (the value of `REDIS_SERVER`, or `None` to use
/// `redis-server` from PATH) runs and is Redis (or Valkey) >= 7; returns the program to run
/// and what it is.
pub(crate) fn check_binary(
    configured: Option<&OsStr>,
) -> Result<(OsString, ServerVersion), HarnessError> {
    let program = configured.unwrap_or(OsStr::new("redis-server"));
    let shown = Path::new(program).display();
    let output = match Command::new(program).arg("--version").output() {
        Ok(output) => output,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(HarnessError::new(match configured {
                None => format!(
                    "redis-server was not found on PATH (set REDIS_SERVER=/path/to/redis-server to use another). {INSTALL_HINT}"
                ),
                Some(_) => format!(
                    "REDIS_SERVER={shown} does not exist (unset REDIS_SERVER to use redis-server from PATH). {INSTALL_HINT}"
                ),
            }));
        }
        Err(err) => {
            return Err(HarnessError::new(format!(
                "cannot run `{shown} --version`: {err}. {INSTALL_HINT}"
            )));
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let kind = if text.trim_start().starts_with("Valkey") {
        ServerKind::Valkey
    } else {
        ServerKind::Redis
    };
    match parse_version(&text) {
        Some((version, major)) if major >= 7 => Ok((
            program.to_owned(),
            ServerVersion {
                kind,
                version: version.to_owned(),
                major,
            },
        )),
        Some((version, _)) => Err(HarnessError::new(format!(
            "{shown} is Redis {version}, but Redis >= 7 is required (CLUSTER ADDSLOTSRANGE, functions). {INSTALL_HINT}"
        ))),
        None => Err(HarnessError::new(format!(
            "cannot tell the version of {shown}: `--version` printed {:?} (expected something like \"Redis server v=7.0.15 ...\"). {INSTALL_HINT}",
            text.trim()
        ))),
    }
}

/// Extracts `("7.0.15", 7)` from `Redis server v=7.0.15 sha=... malloc=...`.
fn parse_version(text: &str) -> Option<(&str, u32)> {
    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))?;
    let major = version.split('.').next()?.parse().ok()?;
    Some((version, major))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_explains_how_to_install() {
        let err = check_binary(Some(OsStr::new("/nonexistent"))).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("REDIS_SERVER=/nonexistent"), "{message}");
        assert!(message.contains(INSTALL_HINT), "{message}");
        assert!(
            message.contains("sudo apt-get install -y redis-server"),
            "{message}"
        );
    }

    #[test]
    fn installed_binary_is_accepted() {
        let (_, found) = check_binary(None).unwrap();
        assert!(found.major >= 7, "{found:?}");
        assert!(found.version.starts_with(&found.major.to_string()));
    }

    #[test]
    fn parses_versions() {
        let line = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d";
        assert_eq!(parse_version(line), Some(("7.0.15", 7)));
        assert_eq!(
            parse_version("Redis server v=6.2.6 sha=0"),
            Some(("6.2.6", 6))
        );
        assert_eq!(
            parse_version("Valkey server v=8.0.1 sha=0"),
            Some(("8.0.1", 8))
        );
        assert_eq!(parse_version("something else"), None);
    }
}
