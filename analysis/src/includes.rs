//! `--- @include "path"`: scripts assembled from several Lua files, with a source map back to
//! them.
//!
//! A line whose whole text is `--- @include "includes/removeJob"` (two or more dashes, single
//! or double quotes) is replaced by nothing and followed by the named file's lines: the
//! directive stays in the script as the comment it is, so that the assembled script reads like
//! its sources and every line maps to exactly one line of one file. The path is relative to
//! the including file's directory, written with `/`; `.lua` may be left out. Includes nest;
//! each file is inlined once per script, where its first directive is (a later directive for
//! it adds nothing), and a file that includes itself, directly or through others, is an error
//! that shows the chain.
//!
//! Assembly is byte-for-byte the same on every machine: line endings are normalised to `\n`
//! (Lua reads `\r\n` as one line end, so lines and columns do not move), paths are compared
//! and shown with `/`, and nothing of the machine (absolute paths, the time) enters the
//! script.
//!
//! ```
//! use redis_script_analysis::{assemble_script, ScriptFiles};
//!
//! struct InMemory;
//! impl ScriptFiles for InMemory {
//!     fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>> {
//!         match path {
//!             "lua/move.lua" => Ok(b"--- @include \"includes/util\"\nreturn util_double(1)\n".to_vec()),
//!             "lua/includes/util.lua" => Ok(b"local function util_double(x) return 2 * x end\r\n".to_vec()),
//!             _ => Err(std::io::ErrorKind::NotFound.into()),
//!         }
//!     }
//! }
//!
//! let script = assemble_script("lua/move.lua", &mut InMemory).unwrap();
//! assert_eq!(
//!     script.source,
//!     "--- @include \"includes/util\"\nlocal function util_double(x) return 2 * x end\nreturn util_double(1)\n"
//! );
//! assert_eq!(script.files, ["lua/move.lua", "lua/includes/util.lua"]);
//! assert_eq!(script.locate(2), (1, 1)); // line 2 is line 1 of util.lua
//! assert_eq!(script.locate(3), (0, 2));
//! ```

use crate::{Blame, Diagnostic, Lint, Location, Origin};

/// Where the files of a script are read from: the derive reads them relative to the crate's
/// `Cargo.toml`; tests and tools may read them from memory.
pub trait ScriptFiles {
    /// The bytes of the file at `path`, relative to the crate root, with `/` separators.
    fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>>;

    /// Where `path` is on this machine, for messages (the path itself by default).
    fn describe(&self, path: &str) -> String {
        path.to_owned()
    }
}

/// A script assembled from its file and the files it includes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledScript {
    /// The script exactly as it is sent to Redis and hashed for `EVALSHA`.
    pub source: String,
    /// Every file read, as a path relative to the crate root with `/` separators; the script's
    /// own file first, then the included ones in the order they were first included.
    pub files: Vec<String>,
    /// Runs of lines of the assembled source that come from one file, in order.
    pub segments: Vec<SourceSegment>,
    /// Whether `source` is the script's file byte for byte (no include, no `\r\n`), so that
    /// the file itself can stand for it (`include_str!`).
    pub verbatim: bool,
    /// For each file after the first: the file whose directive included it, and that
    /// directive's line (in the including file).
    included_by: Vec<(usize, usize)>,
}

/// A run of lines of an assembled script that comes from one file.
///
/// ```
/// use redis_script_analysis::SourceSegment;
///
/// // Assembled lines 5 onwards are the including file's lines 3 onwards.
/// let segment = SourceSegment { first_line: 5, file: 0, first_original_line: 3 };
/// assert_eq!(segment.first_original_line + (7 - segment.first_line), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceSegment {
    /// The segment's first line in the assembled script, 1-based.
    pub first_line: usize,
    /// The file, an index into [`AssembledScript::files`].
    pub file: usize,
    /// The line of that file the segment starts with, 1-based.
    pub first_original_line: usize,
}

impl AssembledScript {
    /// A script of one file, read from memory: no includes are followed.
    ///
    /// ```
    /// let script = redis_script_analysis::AssembledScript::single("lua/x.lua", "return 1\n");
    /// assert_eq!(script.locate(1), (0, 1));
    /// ```
    pub fn single(path: &str, source: &str) -> Self {
        AssembledScript {
            source: source.to_owned(),
            files: vec![path.to_owned()],
            segments: vec![SourceSegment {
                first_line: 1,
                file: 0,
                first_original_line: 1,
            }],
            verbatim: true,
            included_by: Vec::new(),
        }
    }

    /// The file (an index into [`files`](Self::files)) and line that line `line` of the
    /// assembled script comes from.
    ///
    /// ```
    /// let script = redis_script_analysis::AssembledScript::single("lua/x.lua", "a\nb\n");
    /// assert_eq!(script.locate(2), (0, 2));
    /// ```
    pub fn locate(&self, line: usize) -> (usize, usize) {
        let at = self
            .segments
            .partition_point(|segment| segment.first_line <= line);
        match at.checked_sub(1).and_then(|index| self.segments.get(index)) {
            Some(segment) => (
                segment.file,
                segment.first_original_line + (line - segment.first_line),
            ),
            None => (0, line),
        }
    }

    /// Where the code of a diagnostic at an assembled location is written: the location in
    /// its own file, and for an included file the file with the chain of includes.
    #[cfg_attr(not(feature = "lua"), allow(dead_code))]
    pub(crate) fn origin_of(&self, location: Location) -> (Location, Option<Box<Origin>>) {
        let (file, line) = self.locate(location.line);
        let location = Location {
            line,
            column: location.column,
        };
        (location, self.origin(file))
    }

    /// File `file` with the chain of directives that included it; `None` for the script's own.
    fn origin(&self, file: usize) -> Option<Box<Origin>> {
        let mut included_from = Vec::new();
        let mut current = file;
        while let Some(&(parent, directive_line)) = current
            .checked_sub(1)
            .and_then(|index| self.included_by.get(index))
        {
            included_from.push((self.files[parent].clone(), directive_line));
            current = parent;
        }
        let file = self.files.get(file).filter(|_| file != 0)?;
        Some(Box::new(Origin {
            file: file.clone(),
            included_from,
        }))
    }
}

/// A directive's parts: the quoted path and the column (1-based, in characters) where the
/// quoted path starts.
pub(crate) struct Directive<'a> {
    pub path: Option<&'a str>,
    pub column: usize,
}

/// The `@include` directive on `line`, if the line is one (well-formed or not).
pub(crate) fn directive(line: &str) -> Option<Directive<'_>> {
    let trimmed = line.trim_start();
    let dashes = trimmed.len() - trimmed.trim_start_matches('-').len();
    if dashes < 2 {
        return None;
    }
    let rest = trimmed[dashes..].trim_start();
    let after = rest.strip_prefix("@include")?;
    if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None; // `@included`, `@include_x`: another annotation
    }
    let quoted = after.trim_start();
    let column = line.chars().count() - quoted.chars().count() + 1;
    let path = quoted.chars().next().and_then(|quote| {
        if quote != '"' && quote != '\'' {
            return None;
        }
        let inner = &quoted[1..];
        let end = inner.find(quote)?;
        let tail = inner[end + 1..].trim_end();
        let tail = tail.strip_prefix(';').unwrap_or(tail).trim();
        (tail.is_empty() && end > 0).then(|| &inner[..end])
    });
    Some(Directive { path, column })
}

/// Reads the script at `path` (relative to the crate root, `/` separators) and inlines the
/// files it includes (`--- @include "helpers.lua"`, relative to the including file).
///
/// Every problem is a [`Diagnostic`]: the file missing, unreadable or not UTF-8 (no location
/// for the script's own file; the directive's line and column for an included one, in the
/// including file), a malformed directive, an include cycle.
pub fn assemble_script(
    path: &str,
    files: &mut dyn ScriptFiles,
) -> Result<AssembledScript, Vec<Diagnostic>> {
    let mut assembly = Assembly {
        files,
        root_verbatim: false,
        script: AssembledScript {
            source: String::new(),
            files: vec![path.to_owned()],
            segments: Vec::new(),
            verbatim: false,
            included_by: Vec::new(),
        },
        line: 1,
        diagnostics: Vec::new(),
    };
    let text = assembly.read(path)?;
    assembly.inline(0, &text, &mut vec![0]);
    assembly.script.verbatim = assembly.script.files.len() == 1 && assembly.root_verbatim;
    if assembly.diagnostics.is_empty() {
        Ok(assembly.script)
    } else {
        Err(assembly.diagnostics)
    }
}

struct Assembly<'f> {
    files: &'f mut dyn ScriptFiles,
    /// The script's own file needed no `\r\n` normalised.
    root_verbatim: bool,
    script: AssembledScript,
    /// The next line of the assembled source, 1-based.
    line: usize,
    diagnostics: Vec<Diagnostic>,
}

/// Where a directive is, for messages about the file it names.
#[derive(Clone, Copy)]
struct At {
    file: usize,
    line: usize,
    column: usize,
}

impl Assembly<'_> {
    /// Appends `text`, the lines of file `file`, following its directives. `stack` holds the
    /// files being inlined, outermost first, to find cycles.
    fn inline(&mut self, file: usize, text: &str, stack: &mut Vec<usize>) {
        self.start_segment(file, 1);
        for (index, line) in text.split_inclusive('\n').enumerate() {
            let original_line = index + 1;
            let directive = directive(line.trim_end_matches('\n'));
            self.script.source.push_str(line);
            // What follows (the included lines, or the including file's next line) starts on
            // a line of its own.
            if !line.ends_with('\n') && (file != 0 || directive.is_some()) {
                self.script.source.push('\n');
            }
            self.line += 1;
            let Some(directive) = directive else {
                continue;
            };
            let at = At {
                file,
                line: original_line,
                column: directive.column,
            };
            let Some(written) = directive.path else {
                self.report(
                    at,
                    "this `@include` directive names no file: write the path in quotes, e.g. \
                     `--- @include \"includes/helpers\"`"
                        .to_owned(),
                    "the path is relative to this file's directory; `.lua` may be left out"
                        .to_owned(),
                );
                continue;
            };
            if self.include(written, at, stack) {
                self.start_segment(file, original_line + 1);
            }
        }
    }

    /// Inlines the file named `written` by the directive at `at`, unless it already is.
    /// Returns whether anything was inlined.
    fn include(&mut self, written: &str, at: At, stack: &mut Vec<usize>) -> bool {
        if written.starts_with('/') || written.contains('\\') || written.contains(':') {
            self.report(
                at,
                format!(
                    "`{written}` is not a relative path with `/` separators, so the script would \
                     not assemble the same on every machine"
                ),
                "write the path relative to this file's directory, with `/`, e.g. \
                 `--- @include \"../includes/helpers\"`"
                    .to_owned(),
            );
            return false;
        }
        let including = &self.script.files[at.file];
        let base = including.rsplit_once('/').map_or("", |(dir, _)| dir);
        let candidates: Vec<String> = if written.ends_with(".lua") {
            vec![normalize(base, written)]
        } else {
            vec![
                normalize(base, &format!("{written}.lua")),
                normalize(base, written),
            ]
        };
        if let Some(existing) = candidates
            .iter()
            .find_map(|candidate| self.script.files.iter().position(|file| file == candidate))
        {
            if let Some(start) = stack.iter().position(|&open| open == existing) {
                let chain: Vec<String> = stack[start..]
                    .iter()
                    .map(|&open| format!("`{}`", self.script.files[open]))
                    .chain(std::iter::once(format!(
                        "`{}`",
                        self.script.files[existing]
                    )))
                    .collect();
                self.report(
                    at,
                    format!(
                        "`{}` includes itself: {}",
                        self.script.files[existing],
                        chain.join(" includes ")
                    ),
                    "remove one of these directives; a file included once is visible to every \
                     file after it"
                        .to_owned(),
                );
            }
            return false; // already inlined: a later directive adds nothing
        }

        let mut failure = None;
        for candidate in &candidates {
            match self.files.read(candidate) {
                Ok(bytes) => {
                    let index = self.script.files.len();
                    self.script.files.push(candidate.clone());
                    self.script.included_by.push((at.file, at.line));
                    let text = match decode(candidate, bytes, &*self.files) {
                        Ok(text) => text,
                        Err(message) => {
                            self.report(at, message, UTF8_HELP.to_owned());
                            return false;
                        }
                    };
                    stack.push(index);
                    self.inline(index, &text, stack);
                    stack.pop();
                    return true;
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    failure.get_or_insert((candidate.clone(), error));
                }
                Err(error) => {
                    failure = Some((candidate.clone(), error));
                    break;
                }
            }
        }
        if let Some((candidate, error)) = failure {
            let tried = if candidates.len() > 1 {
                format!(" (nor `{}`)", candidates[1])
            } else {
                String::new()
            };
            self.report(
                at,
                format!(
                    "cannot read `{candidate}`{tried}, which this directive includes (resolved \
                     to {}): {error}",
                    self.files.describe(&candidate)
                ),
                "the path is relative to the including file's directory; `.lua` may be left \
                 out"
                .to_owned(),
            );
        }
        false
    }

    fn start_segment(&mut self, file: usize, first_original_line: usize) {
        let segment = SourceSegment {
            first_line: self.line,
            file,
            first_original_line,
        };
        match self.script.segments.last_mut() {
            // Nothing was written since the last one started: it is replaced.
            Some(last) if last.first_line == self.line => *last = segment,
            _ => self.script.segments.push(segment),
        }
    }

    /// Reads the script's own file and decodes it.
    fn read(&mut self, path: &str) -> Result<String, Vec<Diagnostic>> {
        let bytes = self.files.read(path).map_err(|error| {
            vec![Diagnostic::new(
                Lint::LuaFileUnreadable,
                None,
                format!(
                    "cannot read the Lua file `{path}` (resolved to {}): {error}",
                    self.files.describe(path)
                ),
                "`path` is relative to the directory of the crate's Cargo.toml",
                Blame::Script,
            )]
        })?;
        self.root_verbatim = !bytes.contains(&b'\r');
        decode(path, bytes, &*self.files).map_err(|message| {
            vec![Diagnostic::new(
                Lint::LuaFileUnreadable,
                None,
                message,
                UTF8_HELP,
                Blame::Script,
            )]
        })
    }

    /// A problem with the directive at `at`, located in the including file.
    fn report(&mut self, at: At, message: String, help: String) {
        let mut diagnostic = Diagnostic::new(
            Lint::InvalidInclude,
            Some(Location {
                line: at.line,
                column: at.column,
            }),
            message,
            help,
            Blame::Script,
        );
        diagnostic.origin = self.script.origin(at.file);
        self.diagnostics.push(diagnostic);
    }
}

const UTF8_HELP: &str =
    "save the file as UTF-8; write binary data in Lua strings as escapes such as \"\\255\"";

/// The file's text with `\r\n` as `\n`, or why it is not text.
fn decode(path: &str, bytes: Vec<u8>, files: &dyn ScriptFiles) -> Result<String, String> {
    let text = String::from_utf8(bytes).map_err(|cause| {
        let at = cause.utf8_error().valid_up_to();
        let bytes = cause.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        // `before` is valid UTF-8 up to `at`, so its last line counts in characters.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        let byte = bytes.get(at).copied().unwrap_or_default();
        format!(
            "the Lua file `{path}` (resolved to {}) is not valid UTF-8: byte 0x{byte:02X} at \
             {line}:{column} (offset {at})",
            files.describe(path)
        )
    })?;
    Ok(if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text
    })
}

/// `base/written` with `.` and `..` resolved lexically, `/` separated.
fn normalize(base: &str, written: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(written.split('/')) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);

    impl ScriptFiles for Files {
        fn read(&mut self, path: &str) -> std::io::Result<Vec<u8>> {
            self.0
                .get(path)
                .map(|text| text.as_bytes().to_vec())
                .ok_or_else(|| std::io::ErrorKind::NotFound.into())
        }
    }

    fn files(entries: &[(&'static str, &'static str)]) -> Files {
        Files(entries.iter().copied().collect())
    }

    #[test]
    fn nested_includes_are_inlined_once_where_first_named() {
        let mut files = files(&[
            (
                "lua/a.lua",
                "--- @include \"inc/b\"\n-- @include 'inc/c.lua'\nreturn b() + c()",
            ),
            (
                "lua/inc/b.lua",
                "--- @include \"c\"\nlocal function b() return c() end\n",
            ),
            ("lua/inc/c.lua", "local function c() return 1 end"),
        ]);
        let script = assemble_script("lua/a.lua", &mut files).unwrap();
        assert_eq!(
            script.source,
            "--- @include \"inc/b\"\n--- @include \"c\"\nlocal function c() return 1 end\n\
             local function b() return c() end\n-- @include 'inc/c.lua'\nreturn b() + c()"
        );
        assert_eq!(
            script.files,
            ["lua/a.lua", "lua/inc/b.lua", "lua/inc/c.lua"]
        );
        let located: Vec<(usize, usize)> = (1..=6).map(|line| script.locate(line)).collect();
        assert_eq!(located, [(0, 1), (1, 1), (2, 1), (1, 2), (0, 2), (0, 3)]);
        let (location, origin) = script.origin_of(Location { line: 3, column: 7 });
        assert_eq!(location, Location { line: 1, column: 7 });
        assert_eq!(
            origin,
            Some(Box::new(Origin {
                file: "lua/inc/c.lua".into(),
                included_from: vec![("lua/inc/b.lua".into(), 1), ("lua/a.lua".into(), 1)],
            }))
        );
    }

    #[test]
    fn a_cycle_is_an_error_showing_the_chain() {
        let mut files = files(&[
            ("s.lua", "--- @include \"x\"\nreturn 1\n"),
            ("x.lua", "--- @include \"y\"\n"),
            ("y.lua", "local y = 1\n--- @include \"x\"\n"),
        ]);
        let errors = assemble_script("s.lua", &mut files).unwrap_err();
        assert_eq!(errors.len(), 1);
        let error = &errors[0];
        assert_eq!(error.lint, Lint::InvalidInclude);
        assert_eq!(
            error.message,
            "`x.lua` includes itself: `x.lua` includes `y.lua` includes `x.lua`"
        );
        assert_eq!(
            error.location,
            Some(Location {
                line: 2,
                column: 14
            })
        );
        assert_eq!(
            error.origin,
            Some(Box::new(Origin {
                file: "y.lua".into(),
                included_from: vec![("x.lua".into(), 1), ("s.lua".into(), 1)],
            }))
        );
    }

    #[test]
    fn a_missing_include_is_reported_at_its_directive() {
        let mut files = files(&[("lua/s.lua", "local a = 1\n  --- @include \"../lib/none\"\n")]);
        let errors = assemble_script("lua/s.lua", &mut files).unwrap_err();
        assert_eq!(
            errors[0].location,
            Some(Location {
                line: 2,
                column: 16
            })
        );
        assert!(
            errors[0]
                .message
                .starts_with("cannot read `lib/none.lua` (nor `lib/none`)"),
            "{}",
            errors[0].message
        );
        assert_eq!(errors[0].origin, None);
    }

    #[test]
    fn malformed_and_unportable_directives() {
        for (line, message) in [
            ("--- @include includes/x", "names no file"),
            ("--- @include \"\"", "names no file"),
            ("--- @include \"a\" trailing", "names no file"),
            ("--- @include \"C:\\\\x\"", "not a relative path"),
            ("--- @include \"/etc/x\"", "not a relative path"),
        ] {
            let mut files = files(&[("s.lua", Box::leak(line.to_owned().into_boxed_str()))]);
            let errors = assemble_script("s.lua", &mut files).unwrap_err();
            assert!(errors[0].message.contains(message), "{line}: {errors:?}");
        }
        // Not directives at all.
        for line in [
            "-- @included \"x\"",
            "- @include \"x\"",
            "local s = '--- @include \"x\"'",
        ] {
            let mut files = files(&[("s.lua", line)]);
            assert!(assemble_script("s.lua", &mut files).is_ok(), "{line}");
        }
    }

    #[test]
    fn line_endings_do_not_change_the_script() {
        let mut unix = files(&[
            ("s.lua", "--- @include \"h\"\nreturn h()\n"),
            ("h.lua", "local function h() return 1 end\n"),
        ]);
        let mut windows = files(&[
            ("s.lua", "--- @include \"h\"\r\nreturn h()\r\n"),
            ("h.lua", "local function h() return 1 end\r\n"),
        ]);
        assert_eq!(
            assemble_script("s.lua", &mut unix).unwrap().source,
            assemble_script("s.lua", &mut windows).unwrap().source
        );
        assert!(!assemble_script("s.lua", &mut unix).unwrap().verbatim);
        let mut single = files(&[("a.lua", "return 1\n"), ("b.lua", "return 1\r\n")]);
        assert!(assemble_script("a.lua", &mut single).unwrap().verbatim);
        assert!(!assemble_script("b.lua", &mut single).unwrap().verbatim);
    }

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize("lua/sub", "../inc/./x.lua"), "lua/inc/x.lua");
        assert_eq!(normalize("", "../x.lua"), "../x.lua");
        assert_eq!(normalize("a", "../../x.lua"), "../x.lua");
    }
}
