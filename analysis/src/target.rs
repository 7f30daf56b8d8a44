//! The oldest server a script must run on: `redis-7.0`, `redis-7.4`, `valkey-8.0`, ...
//!
//! Like a crate's minimum supported Rust version, the target is a minimum: the script is
//! checked against the commands that server has (and their arity and flags there), and is
//! expected to run on every later version of the same server. Redis and Valkey share their
//! history up to Redis 7.2.4, from which Valkey was forked; since then each adds commands the
//! other lacks, so the server family is part of the target.

use std::fmt;

/// Which server family runs the script.
///
/// ```
/// use redis_script_analysis::Server;
///
/// assert_eq!(Server::Valkey.name(), "valkey");
/// assert_eq!(Server::Redis.to_string(), "Redis");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Server {
    /// Redis (7.0 and later).
    Redis,
    /// Valkey (7.2 and later), the fork of Redis 7.2.4.
    Valkey,
}

impl Server {
    /// The lowercase name used in targets (`redis-7.0`).
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::Server::Redis.name(), "redis");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Server::Redis => "redis",
            Server::Valkey => "valkey",
        }
    }

    /// The oldest version of this server that the analysis supports: Redis 7.0 (scripts with
    /// shebang flags, functions, key specifications), Valkey 7.2 (its first release).
    ///
    /// ```
    /// use redis_script_analysis::{Server, Version};
    ///
    /// assert_eq!(Server::Redis.oldest(), Version::new(7, 0));
    /// assert_eq!(Server::Valkey.oldest(), Version::new(7, 2));
    /// ```
    pub const fn oldest(self) -> Version {
        match self {
            Server::Redis => Version::new(7, 0),
            Server::Valkey => Version::new(7, 2),
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Server::Redis => "Redis",
            Server::Valkey => "Valkey",
        })
    }
}

/// A server version, major and minor (patch releases do not add commands).
///
/// ```
/// use redis_script_analysis::Version;
///
/// assert!(Version::new(7, 4) > Version::new(7, 2));
/// assert_eq!(Version::parse("8.1.8"), Some(Version::new(8, 1)));
/// assert_eq!(Version::new(7, 4).to_string(), "7.4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// The major version.
    pub major: u16,
    /// The minor version.
    pub minor: u16,
}

impl Version {
    /// `major.minor`; `const`, for the generated command table.
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::Version::new(8, 0).major, 8);
    /// ```
    pub const fn new(major: u16, minor: u16) -> Version {
        Version { major, minor }
    }

    /// `"7.4"` or `"7.4.2"` (the patch is ignored); `None` for anything else.
    ///
    /// ```
    /// use redis_script_analysis::Version;
    ///
    /// assert_eq!(Version::parse("7.4"), Some(Version::new(7, 4)));
    /// assert_eq!(Version::parse("7"), None);
    /// assert_eq!(Version::parse("7.x"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        match parts.next() {
            None => {}
            Some(patch) if patch.parse::<u32>().is_ok() && parts.next().is_none() => {}
            Some(_) => return None,
        }
        Some(Version { major, minor })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The oldest server a script must run on, e.g. `redis-7.0` or `valkey-8.0`.
///
/// ```
/// use redis_script_analysis::{Server, Target, Version};
///
/// let target: Target = "valkey-8.0".parse().unwrap();
/// assert_eq!(target, Target::new(Server::Valkey, Version::new(8, 0)));
/// assert_eq!(target.to_string(), "valkey-8.0");
/// assert_eq!(Target::default().to_string(), "redis-7.0");
/// assert!("redis-6.2".parse::<Target>().unwrap_err().contains("oldest"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The server family.
    pub server: Server,
    /// Its oldest version that must run the script.
    pub version: Version,
}

impl Target {
    /// The target of crates that declare none: the oldest supported Redis, 7.0.
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::Target::DEFAULT.to_string(), "redis-7.0");
    /// ```
    pub const DEFAULT: Target = Target::new(Server::Redis, Version::new(7, 0));

    /// A target; `const`.
    ///
    /// ```
    /// use redis_script_analysis::{Server, Target, Version};
    /// assert_eq!(Target::new(Server::Redis, Version::new(7, 4)).to_string(), "redis-7.4");
    /// ```
    pub const fn new(server: Server, version: Version) -> Target {
        Target { server, version }
    }

    /// Whether a command (or flag, or behaviour) that `server` has since `since` is available
    /// on this target and every later version of it.
    ///
    /// ```
    /// use redis_script_analysis::{Server, Target, Version};
    ///
    /// let target: Target = "redis-7.4".parse().unwrap();
    /// assert!(target.has(Server::Redis, Some(Version::new(7, 4))));
    /// assert!(!target.has(Server::Redis, Some(Version::new(8, 0))));
    /// assert!(!target.has(Server::Valkey, Some(Version::new(7, 2))));
    /// assert!(!target.has(Server::Redis, None));
    /// ```
    pub fn has(self, server: Server, since: Option<Version>) -> bool {
        self.server == server && since.is_some_and(|since| since <= self.version)
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::DEFAULT
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.server.name(), self.version)
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `redis-7.0`, `redis-7.4`, `valkey-8.1`, case-insensitive; the error says what is
    /// expected.
    fn from_str(text: &str) -> Result<Target, String> {
        const EXPECTED: &str = "a server target is `redis-MAJOR.MINOR` or \
                                `valkey-MAJOR.MINOR`, e.g. \"redis-7.0\", \"redis-7.4\", \
                                \"valkey-8.0\"";
        let Some((name, version)) = text.split_once('-') else {
            return Err(format!("`{text}` is not a server target: {EXPECTED}"));
        };
        let server = if name.eq_ignore_ascii_case("redis") {
            Server::Redis
        } else if name.eq_ignore_ascii_case("valkey") {
            Server::Valkey
        } else {
            return Err(format!(
                "`{text}` names no supported server (`{name}`): {EXPECTED}"
            ));
        };
        let version = Version::parse(version)
            .ok_or_else(|| format!("`{text}` has no MAJOR.MINOR version: {EXPECTED}"))?;
        if version < server.oldest() {
            return Err(format!(
                "`{text}` is older than the oldest supported {server}, {}: scripts are checked \
                 for {server} {} and later (Redis 7 scripts: shebang flags, functions)",
                server.oldest(),
                server.oldest()
            ));
        }
        Ok(Target { server, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print() {
        for text in [
            "redis-7.0",
            "redis-7.2",
            "redis-7.4",
            "redis-8.0",
            "valkey-7.2",
            "valkey-9.1",
        ] {
            let target: Target = text.parse().unwrap();
            assert_eq!(target.to_string(), text);
        }
        let patch: Target = "Redis-7.4.2".parse().unwrap();
        assert_eq!(patch, Target::new(Server::Redis, Version::new(7, 4)));
        for bad in [
            "redis",
            "redis-7",
            "redis-seven",
            "keydb-6.3",
            "valkey-7.0",
            "redis-6.2",
            "",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn availability_is_per_family_and_minimum() {
        let valkey: Target = "valkey-8.0".parse().unwrap();
        assert!(valkey.has(Server::Valkey, Some(Version::new(7, 2))));
        assert!(valkey.has(Server::Valkey, Some(Version::new(8, 0))));
        assert!(!valkey.has(Server::Valkey, Some(Version::new(8, 1))));
        assert!(!valkey.has(Server::Redis, Some(Version::new(7, 0))));
    }
}
