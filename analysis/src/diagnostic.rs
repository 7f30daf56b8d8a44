use std::fmt;

use crate::Lint;

/// A 1-based line and column (in characters) in the Lua file.
///
/// ```
/// let location = redis_script_analysis::Location { line: 3, column: 12 };
/// assert_eq!(location.to_string(), "3:12");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Which part of the Rust declaration a diagnostic is about, so that the derive can point its
/// span there.
///
/// ```
/// use redis_script_analysis::Blame;
/// assert_ne!(Blame::Key(0), Blame::Arg(0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The script itself (the `path` attribute that names it).
    Script,
    /// The struct as a whole, e.g. a field it lacks.
    Struct,
    /// The `#[key]` field with this 0-based position among the keys.
    Key(usize),
    /// The `#[arg]` field with this 0-based position among the args.
    Arg(usize),
    /// The struct's `returns = T` type.
    Returns,
}

/// One problem found in a script, with where it is and how to fix it.
///
/// ```
/// use redis_script_analysis::{Blame, Diagnostic, Lint, Location};
///
/// let diagnostic = Diagnostic::new(
///     Lint::UnknownCommand,
///     Some(Location { line: 1, column: 8 }),
///     "something is wrong",
///     "change it",
///     Blame::Script,
/// );
/// assert_eq!(
///     diagnostic.render("lua/x.lua"),
///     "lua/x.lua:1:8: something is wrong [unknown_command]\n  help: change it",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Which kind of problem: its name is shown, and `allow` takes it.
    pub lint: Lint,
    /// Where in the Lua file; `None` when the problem is not at one place in it.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Which part of the Rust declaration is at fault.
    pub blame: Blame,
    /// The file the code is written in when it is not the script's own file but one it
    /// includes (`--- @include`), with the chain of includes that brought it in.
    pub origin: Option<Box<Origin>>,
}

/// The included file a diagnostic's location is in, and how it got into the script.
///
/// ```
/// use redis_script_analysis::Origin;
///
/// let origin = Origin {
///     file: "lua/includes/remove.lua".into(),
///     included_from: vec![("lua/cleanup.lua".into(), 3)],
/// };
/// assert_eq!(origin.included_from[0].1, 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file, as a path relative to the crate root with `/` separators.
    pub file: String,
    /// Each `@include` directive on the way, innermost first: the including file and the
    /// line of its directive.
    pub included_from: Vec<(String, usize)>,
}

impl Diagnostic {
    /// A diagnostic of the script's own file.
    ///
    /// ```
    /// use redis_script_analysis::{Blame, Diagnostic, Lint};
    ///
    /// let diagnostic = Diagnostic::new(Lint::UnreadKey, None, "`to` is never read", "read it", Blame::Key(1));
    /// assert_eq!(diagnostic.origin, None);
    /// ```
    pub fn new(
        lint: Lint,
        location: Option<Location>,
        message: impl Into<String>,
        help: impl Into<String>,
        blame: Blame,
    ) -> Self {
        Diagnostic {
            lint,
            location,
            message: message.into(),
            help: help.into(),
            blame,
            origin: None,
        }
    }

    /// The message as a compiler shows it: `file:line:col: message [lint]`, then the help, the
    /// includes that brought the code in, and how to allow the lint where that is possible.
    /// `path` is the script's file, used unless the code is in an included one.
    ///
    /// ```
    /// use redis_script_analysis::{Blame, Diagnostic, Lint};
    ///
    /// let diagnostic = Diagnostic::new(
    ///     Lint::UnreadKey,
    ///     None,
    ///     "`to` is never read",
    ///     "read it or remove it",
    ///     Blame::Key(1),
    /// );
    /// assert_eq!(
    ///     diagnostic.render("lua/transfer.lua"),
    ///     "lua/transfer.lua: `to` is never read [unread_key]\n  help: read it or remove it\n  \
    ///      note: to keep the field anyway, mark it #[key(unread)], or allow the lint on the \
    ///      struct: #[redis_script(allow(unread_key))]",
    /// );
    /// ```
    pub fn render(&self, path: &str) -> String {
        self.render_for(path, "redis_script")
    }

    /// [`render`](Self::render) for a struct whose attribute is `attribute`
    /// (`redis_function` for a function of a library), which the allow note names.
    ///
    /// ```
    /// use redis_script_analysis::{Blame, Diagnostic, Lint};
    ///
    /// let diagnostic = Diagnostic::new(Lint::UnreadKey, None, "unread", "read it", Blame::Key(0));
    /// assert!(diagnostic.render_for("lua/l.lua", "redis_function").ends_with("#[redis_function(allow(unread_key))]"));
    /// ```
    pub fn render_for(&self, path: &str, attribute: &str) -> String {
        use std::fmt::Write as _;

        let file = self.origin.as_ref().map_or(path, |origin| &origin.file);
        let mut text = match self.location {
            Some(location) => format!("{file}:{location}: {}", self.message),
            None => format!("{file}: {}", self.message),
        };
        let _ = write!(text, " [{}]\n  help: {}", self.lint, self.help);
        if let Some(origin) = &self.origin {
            for (including, line) in &origin.included_from {
                let _ = write!(text, "\n  note: included from {including}:{line}");
            }
        }
        let lint = self.lint;
        let note = match lint {
            _ if !lint.allowable() => return text,
            Lint::UnreadKey | Lint::UnreadArgument => {
                let field = if lint == Lint::UnreadKey {
                    "key"
                } else {
                    "arg"
                };
                format!(
                    "to keep the field anyway, mark it #[{field}(unread)], or allow the lint \
                     on the struct: #[{attribute}(allow({lint}))]"
                )
            }
            _ if self.location.is_none() => format!(
                "if this is intended, allow it on the struct: #[{attribute}(allow({lint}))]"
            ),
            _ => format!(
                "if this is intended, allow it on this Lua line with a comment \
                 `-- redis-script: allow({lint})`, or on the struct: \
                 #[{attribute}(allow({lint}))]"
            ),
        };
        let _ = write!(text, "\n  note: {note}");
        text
    }
}
