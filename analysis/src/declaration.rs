use crate::{KeyTemplate, Lint};

/// What the Rust side declares: the struct's name, its `#[key]` and `#[arg]` fields in order, and
/// whether the script is declared never to run on a Redis Cluster.
///
/// ```
/// use redis_script_analysis::{Declaration, Field};
///
/// let declaration = Declaration {
///     name: "Transfer".into(),
///     keys: vec![Field::single("from"), Field::single("to")],
///     args: vec![Field::variadic("amounts")],
///     standalone_only: false,
///     extra_commands: vec![],
///     allow: vec![],
///     returns: Default::default(),
/// };
/// assert_eq!(declaration.keys.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declaration {
    /// The struct's name, used in messages.
    pub name: String,
    /// `#[key]` fields: `KEYS[1]`, `KEYS[2]`, ... in declaration order.
    pub keys: Vec<Field>,
    /// `#[arg]` fields: `ARGV[1]`, `ARGV[2]`, ... in declaration order.
    pub args: Vec<Field>,
    /// `#[redis_script(standalone_only)]`: the script never runs on a Redis Cluster, so its keys
    /// need not share a slot. The struct-level twin of `#!lua flags=no-cluster`, for scripts
    /// that must also run on Redis 6, where a shebang line is a syntax error.
    pub standalone_only: bool,
    /// `#[redis_script(extra_commands = ["DELEX"])]`: commands that the command table (taken
    /// from the servers in [`GENERATED_FROM`](crate::GENERATED_FROM)) does not list, such as
    /// those of modules or of a newer server; calls to them are accepted unchecked instead of
    /// being unknown commands.
    /// Compared case-insensitively, as Redis compares command names.
    pub extra_commands: Vec<String>,
    /// `#[redis_script(allow(unread_argument, ...))]`: lints not reported for this script.
    /// Only [allowable](Lint::allowable) ones; the derive refuses the others.
    pub allow: Vec<Lint>,
    /// What the struct's `returns = T` type can hold, as far as the derive can tell from its
    /// tokens; [`ReturnsShape::Unknown`] (no check) when not given or not recognised.
    pub returns: ReturnsShape,
}

/// What a declared `returns` type can be converted from, by the rules of `redis`'s
/// `FromRedisValue` (1.8): the derive classifies the type from its tokens, the analysis checks
/// the script's replies against it.
///
/// A Lua `nil` or `false` reply arrives as `Value::Nil`, a table as `Value::Array`.
///
/// ```
/// use redis_script_analysis::ReturnsShape;
///
/// assert_eq!(ReturnsShape::Integer.accepts_nil(), Some(false));
/// assert_eq!(ReturnsShape::Collection.accepts_nil(), Some(true)); // nil is an empty Vec
/// assert_eq!(ReturnsShape::Bool.accepts_array(), Some(false));
/// assert_eq!(ReturnsShape::Unknown.accepts_array(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnsShape {
    /// Not given, or a type the derive does not recognise: nothing is checked.
    #[default]
    Unknown,
    /// `i64`, `u32`, `usize`, ...: neither nil nor an array converts to one.
    Integer,
    /// `f64`, `f32`: neither nil nor an array converts to one.
    Float,
    /// `bool`: nil converts to `false`, an array does not convert.
    Bool,
    /// `String`: neither nil nor an array converts to one.
    Text,
    /// `Option<T>` of an integer, float, `bool` or `String`: nil is `None`, an array does not
    /// convert.
    OptionalScalar,
    /// `Option<T>` of another type: nil is `None`; an array converts as `T` says.
    Optional,
    /// `Vec<T>` (`Vec<u8>` too), `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet`: nil is empty, an
    /// array converts.
    Collection,
    /// A tuple: an array converts (of its length), nil does not.
    Tuple,
    /// `()`: anything converts.
    Unit,
    /// `redis::Value`: anything converts.
    Value,
}

impl ReturnsShape {
    /// Whether a nil reply converts to the type; `None` when that is not known.
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::ReturnsShape::Tuple.accepts_nil(), Some(false));
    /// ```
    pub const fn accepts_nil(self) -> Option<bool> {
        match self {
            ReturnsShape::Unknown => None,
            ReturnsShape::Integer
            | ReturnsShape::Float
            | ReturnsShape::Text
            | ReturnsShape::Tuple => Some(false),
            ReturnsShape::Bool
            | ReturnsShape::OptionalScalar
            | ReturnsShape::Optional
            | ReturnsShape::Collection
            | ReturnsShape::Unit
            | ReturnsShape::Value => Some(true),
        }
    }

    /// Whether an array reply (any Lua table) can convert to the type; `None` when that is not
    /// known.
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::ReturnsShape::Text.accepts_array(), Some(false));
    /// ```
    pub const fn accepts_array(self) -> Option<bool> {
        match self {
            ReturnsShape::Unknown | ReturnsShape::Optional => None,
            ReturnsShape::Integer
            | ReturnsShape::Float
            | ReturnsShape::Bool
            | ReturnsShape::Text
            | ReturnsShape::OptionalScalar => Some(false),
            ReturnsShape::Collection
            | ReturnsShape::Tuple
            | ReturnsShape::Unit
            | ReturnsShape::Value => Some(true),
        }
    }

    /// The kind of type, for messages: "an integer type", "`String`", ...
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::ReturnsShape::Bool.describe(), "`bool`");
    /// ```
    pub const fn describe(self) -> &'static str {
        match self {
            ReturnsShape::Unknown => "a type the derive does not classify",
            ReturnsShape::Integer => "an integer type",
            ReturnsShape::Float => "a float type",
            ReturnsShape::Bool => "`bool`",
            ReturnsShape::Text => "`String`",
            ReturnsShape::OptionalScalar => "an `Option` of a single value",
            ReturnsShape::Optional => "an `Option`",
            ReturnsShape::Collection => "a collection",
            ReturnsShape::Tuple => "a tuple",
            ReturnsShape::Unit => "`()`",
            ReturnsShape::Value => "`redis::Value`",
        }
    }
}

/// One `#[key]` or `#[arg]` field.
///
/// ```
/// use redis_script_analysis::Field;
///
/// assert!(!Field::single("from").variadic);
/// assert!(Field::variadic("rest").variadic);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// `#[key(variadic)]` / `#[arg(variadic)]`: the field spreads into any number of entries.
    pub variadic: bool,
    /// `#[key("{{tag}}:{}")]` / `#[arg("{{tag}}:")]`: how the key (or the argument, such as
    /// a key prefix) is built from this and other fields' values.
    pub template: Option<KeyTemplate>,
    /// `#[key(unread)]` / `#[arg(unread)]`: sent although the script does not read it (kept
    /// for callers' compatibility), so that not reading it is no error.
    pub unread: bool,
}

impl Field {
    /// A field that fills exactly one entry.
    ///
    /// ```
    /// assert_eq!(redis_script_analysis::Field::single("from").name, "from");
    /// ```
    pub fn single(name: impl Into<String>) -> Self {
        Field {
            name: name.into(),
            variadic: false,
            template: None,
            unread: false,
        }
    }

    /// A field that fills any number of entries; only the last key or arg may be one.
    ///
    /// ```
    /// assert!(redis_script_analysis::Field::variadic("rest").variadic);
    /// ```
    pub fn variadic(name: impl Into<String>) -> Self {
        Field {
            name: name.into(),
            variadic: true,
            template: None,
            unread: false,
        }
    }

    /// The same field, built from a key template.
    ///
    /// ```
    /// use redis_script_analysis::{Field, KeyTemplate};
    ///
    /// let field = Field::single("from").with_template(KeyTemplate::parse("{{bank}}:{}").unwrap());
    /// assert!(field.template.is_some());
    /// ```
    pub fn with_template(mut self, template: KeyTemplate) -> Self {
        self.template = Some(template);
        self
    }
}
