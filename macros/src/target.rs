//! The oldest server the crate's scripts must run on: `#[redis_script(server = "...")]` on the
//! struct, else `[package.metadata.redis-script] server = "..."` in the crate's `Cargo.toml`,
//! else Redis 7.0.

use std::path::Path;

use proc_macro2::Span;
use redis_script_analysis::Target;

/// The section of `Cargo.toml` that holds the crate's default target.
const SECTION: &str = "[package.metadata.redis-script]";

/// The crate's default target and the manifest it came from (a build input then), read from
/// `manifest_dir/Cargo.toml`.
pub fn crate_target(manifest_dir: &Path, span: Span) -> syn::Result<(Target, Option<String>)> {
    let path = manifest_dir.join("Cargo.toml");
    // No manifest (a build without Cargo) is no declaration.
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok((Target::DEFAULT, None));
    };
    match manifest_server(&text) {
        Ok(None) => Ok((Target::DEFAULT, None)),
        Ok(Some(value)) => {
            let target = value.parse::<Target>().map_err(|problem| {
                syn::Error::new(
                    span,
                    format!("{}: `server` in {SECTION}: {problem}", path.display()),
                )
            })?;
            Ok((target, path.to_str().map(str::to_owned)))
        }
        Err(problem) => Err(syn::Error::new(
            span,
            format!("{}: {SECTION}: {problem}", path.display()),
        )),
    }
}

/// The `server = "..."` value of the `[package.metadata.redis-script]` section.
///
/// A parser of that one key, not of TOML: the derive runs in every user's build, unoptimised,
/// so it takes no TOML dependency. It reads the section header and `key = "value"` lines as
/// TOML writes them; anything else under the header is someone else's business, except a
/// `server` key whose value it cannot read, which is an error rather than a silent default.
fn manifest_server(text: &str) -> Result<Option<String>, String> {
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header: String = line
                .split('#')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            in_section = header == SECTION || header == "[package.metadata.\"redis-script\"]";
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "server" {
            continue;
        }
        let value = value.trim();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
        let parsed = quote.and_then(|quote| {
            let rest = &value[1..];
            let end = rest.find(quote)?;
            let after = rest[end + 1..].trim();
            (after.is_empty() || after.starts_with('#')).then(|| rest[..end].to_owned())
        });
        return match parsed {
            Some(server) => Ok(Some(server)),
            None => Err(format!(
                "`server = {value}` is not a string; write e.g. server = \"redis-7.4\""
            )),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_read_from_its_section_only() {
        let manifest = "[package]\nname = \"x\"\nserver = \"nope\"\n\n\
                        [package.metadata.redis-script]\n# the oldest server we support\n\
                        server = \"valkey-8.0\" # managed service\n\n[dependencies]\n";
        assert_eq!(manifest_server(manifest), Ok(Some("valkey-8.0".to_owned())));
        assert_eq!(manifest_server("[package]\nname = \"x\"\n"), Ok(None));
        assert_eq!(
            manifest_server("[package.metadata.redis-script]\nserver = 'redis-7.4'\n"),
            Ok(Some("redis-7.4".to_owned()))
        );
        assert_eq!(
            manifest_server("[ package.metadata.\"redis-script\" ]\nserver=\"redis-8.0\""),
            Ok(Some("redis-8.0".to_owned()))
        );
        assert!(manifest_server("[package.metadata.redis-script]\nserver = 7.4\n").is_err());
        assert_eq!(
            manifest_server("[package.metadata.other]\nserver = \"x\"\n"),
            Ok(None)
        );
    }
}
