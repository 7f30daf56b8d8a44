//! Locating `redis-server` and checking that it is recent enough.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::HarnessError;

const INSTALL_HINT: &str = "Install Redis >= 7: sudo apt-get install -y redis-server (Debian/Ubuntu), brew install redis (macOS).";

/// The `redis-server` to run: `$REDIS_SERVER`, else `redis-server` from PATH.
/// Checked once per process, since every server start needs it.
pub(crate) fn redis_server() -> Result<&'static OsStr, HarnessError> {
    static FOUND: OnceLock<Result<OsString, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let configured = std::env::var_os("REDIS_SERVER");
            check_binary(configured.as_deref()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map(OsString::as_os_str)
        .map_err(|message| HarnessError::new(message.clone()))
}

/// Checks that `configured` (the value of `REDIS_SERVER`, or `None` to use
/// `redis-server` from PATH) runs and is Redis >= 7; returns the program to run.
fn check_binary(configured: Option<&OsStr>) -> Result<OsString, HarnessError> {
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
    match parse_version(&text) {
        Some((_, major)) if major >= 7 => Ok(program.to_owned()),
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
        check_binary(None).unwrap();
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
