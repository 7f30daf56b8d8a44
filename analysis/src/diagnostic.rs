use std::fmt;

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
}

/// One problem found in a script, with where it is and how to fix it.
///
/// ```
/// use redis_script_analysis::{Blame, Diagnostic, Location};
///
/// let diagnostic = Diagnostic {
///     location: Some(Location { line: 1, column: 8 }),
///     message: "something is wrong".into(),
///     help: "change it".into(),
///     blame: Blame::Script,
/// };
/// assert_eq!(
///     diagnostic.render("lua/x.lua"),
///     "lua/x.lua:1:8: something is wrong\n  help: change it",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the Lua file; `None` when the problem is not at one place in it.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Which part of the Rust declaration is at fault.
    pub blame: Blame,
}

impl Diagnostic {
    /// The message as a compiler shows it: `path:line:col: message`, then the help.
    ///
    /// ```
    /// use redis_script_analysis::{Blame, Diagnostic};
    ///
    /// let diagnostic = Diagnostic {
    ///     location: None,
    ///     message: "`to` is never read".into(),
    ///     help: "read it or remove it".into(),
    ///     blame: Blame::Key(1),
    /// };
    /// assert_eq!(
    ///     diagnostic.render("lua/transfer.lua"),
    ///     "lua/transfer.lua: `to` is never read\n  help: read it or remove it",
    /// );
    /// ```
    pub fn render(&self, path: &str) -> String {
        match self.location {
            Some(location) => format!("{path}:{location}: {}\n  help: {}", self.message, self.help),
            None => format!("{path}: {}\n  help: {}", self.message, self.help),
        }
    }
}
