//! `-- redis-script: allow(lint, ...)` comments: lints allowed on one Lua line.
//!
//! A comment after code allows the lints on its own line; a comment alone on its line allows
//! them on the next line with code (blank lines and other comments in between are skipped),
//! as `eslint-disable-line` and `eslint-disable-next-line` do. The names are those of
//! [`Lint`]; a name that does not exist, or one that cannot be allowed, is an error.

use crate::includes::directive;
use crate::{Blame, Diagnostic, Lint, Location};

const MARKER: &str = "redis-script:";

/// The lints allowed on each line of a script.
#[derive(Debug, Default)]
pub(crate) struct LineAllows(Vec<(usize, Lint)>);

impl LineAllows {
    pub fn allows(&self, line: usize, lint: Lint) -> bool {
        self.0.contains(&(line, lint))
    }
}

/// Reads every allow comment of `source`; malformed ones are diagnostics.
pub(crate) fn line_allows(source: &str) -> (LineAllows, Vec<Diagnostic>) {
    let mut allows = LineAllows::default();
    let mut diagnostics = Vec::new();
    // Allows waiting for the next line with code.
    let mut pending: Vec<Lint> = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        let comment = comment_start(line);
        let code = comment.map_or(line, |at| &line[..at]);
        let has_code = !code.trim().is_empty();
        if has_code {
            allows
                .0
                .extend(pending.drain(..).map(|lint| (number, lint)));
        } else if directive(line).is_some() {
            // The next lines are another file's: an allow above a directive applies to none.
            pending.clear();
        }
        let Some(at) = comment else { continue };
        let text = line[at..].trim_start_matches('-').trim_start();
        let Some(rest) = text.strip_prefix(MARKER) else {
            continue;
        };
        let column = line[..at].chars().count() + 1;
        match parse_allow(rest.trim()) {
            Ok(names) => {
                for name in names {
                    match Lint::allowable_by_name(name) {
                        Ok(lint) if has_code => allows.0.push((number, lint)),
                        Ok(lint) => pending.push(lint),
                        Err(problem) => diagnostics.push(invalid(number, column, problem)),
                    }
                }
            }
            Err(problem) => diagnostics.push(invalid(number, column, problem)),
        }
    }
    (allows, diagnostics)
}

/// `allow(a, b)` → `["a", "b"]`.
fn parse_allow(text: &str) -> Result<Vec<&str>, String> {
    let names = text
        .strip_prefix("allow")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.trim_end().strip_suffix(')'))
        .ok_or_else(|| {
            format!(
                "`-- {MARKER} {text}` is not an allow comment; write \
                 `-- {MARKER} allow(lint_name, ...)`"
            )
        })?;
    let names: Vec<&str> = names.split(',').map(str::trim).collect();
    if names.iter().any(|name| name.is_empty()) {
        return Err(format!(
            "`-- {MARKER} {text}` names no lint between two commas or in the parentheses; write \
             `-- {MARKER} allow(lint_name, ...)`"
        ));
    }
    Ok(names)
}

fn invalid(line: usize, column: usize, problem: String) -> Diagnostic {
    Diagnostic::new(
        Lint::InvalidAllow,
        Some(Location { line, column }),
        problem,
        "the names are shown in brackets at the end of each message, e.g. [unread_argument]",
        Blame::Script,
    )
}

/// Where a `--` comment starts on `line`, outside strings; `None` without one. A line inside a
/// long string or comment is taken as it reads, which a marker there can only make allow more.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match quote {
            Some(_) if byte == b'\\' => index += 1,
            Some(open) if byte == open => quote = None,
            Some(_) => {}
            None if byte == b'"' || byte == b'\'' => quote = Some(byte),
            None if byte == b'-' && bytes.get(index + 1) == Some(&b'-') => return Some(index),
            None => {}
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_preceding_comments() {
        let source = "local a = ARGV[1] -- redis-script: allow(undeclared_key)\n\
                      -- redis-script: allow(command_from_argv, unread_key)\n\
                      \n\
                      -- another comment\n\
                      return redis.call(ARGV[2])\n\
                      return 2";
        let (allows, diagnostics) = line_allows(source);
        assert_eq!(diagnostics, vec![]);
        assert!(allows.allows(1, Lint::UndeclaredKey));
        assert!(!allows.allows(2, Lint::CommandFromArgv));
        assert!(allows.allows(5, Lint::CommandFromArgv));
        assert!(allows.allows(5, Lint::UnreadKey));
        assert!(!allows.allows(6, Lint::CommandFromArgv));
    }

    #[test]
    fn markers_in_strings_are_not_comments() {
        let (allows, _) =
            line_allows("local s = '-- redis-script: allow(undeclared_key)'\nreturn s");
        assert!(!allows.allows(1, Lint::UndeclaredKey));
        assert!(!allows.allows(2, Lint::UndeclaredKey));
    }

    #[test]
    fn bad_names_are_errors_at_the_comment() {
        let (_, diagnostics) = line_allows(
            "return 1 -- redis-script: allow(unread_keys)\n  -- redis-script: allow(wrong_arity)\n\
             -- redis-script: alow(x)\nreturn 2",
        );
        let found: Vec<(Lint, Option<Location>)> = diagnostics
            .iter()
            .map(|diagnostic| (diagnostic.lint, diagnostic.location))
            .collect();
        assert_eq!(
            found,
            [
                (
                    Lint::InvalidAllow,
                    Some(Location {
                        line: 1,
                        column: 10
                    })
                ),
                (Lint::InvalidAllow, Some(Location { line: 2, column: 3 })),
                (Lint::InvalidAllow, Some(Location { line: 3, column: 1 })),
            ]
        );
        assert!(diagnostics[0].message.contains("did you mean `unread_key`"));
        assert!(diagnostics[1].message.contains("cannot be allowed"));
        assert!(diagnostics[2].message.contains("is not an allow comment"));
    }

    #[test]
    fn an_allow_above_an_include_applies_to_nothing() {
        let (allows, _) =
            line_allows("-- redis-script: allow(undeclared_key)\n--- @include \"x\"\nreturn 1");
        assert!(!allows.allows(3, Lint::UndeclaredKey));
    }
}
