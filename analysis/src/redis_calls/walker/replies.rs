//! The reply: what Redis makes of the value a script (or a function's callback) returns, and
//! the `unpack` of a variadic table.
//!
//! Redis converts the first returned value to a reply by rules that lose data without an error
//! (measured on Redis 7.0):
//!
//! - a Lua number becomes an integer: `return 3.7` replies 3;
//! - a table becomes an array of its entries 1, 2, 3, ... up to the first nil:
//!   `return {'a', nil, 'c'}` replies `["a"]`; string keys are dropped: `return {name = 'x'}`
//!   replies an empty array (a table with a string `err`, `ok`, `double`, `big_number`, `map`,
//!   `set` or `verbatim_string` field is a reply of that kind instead, so such tables are left
//!   alone);
//! - `false` becomes nil, and so does a script that ends without `return`.
//!
//! Only what the analysis can tell from the code is reported: literals, arithmetic whose
//! operands it knows, table constructors returned directly or through a local that nothing
//! else reads. `tonumber(ARGV[1])` is not taken for a fraction (a caller's argument is most
//! often an integer, and reporting every such return would bury the real cases), nor is a
//! value that may be nil at run time (`redis.call` gives `false` for a missing value, which
//! Redis keeps as a nil element).

use full_moon::ast::{self, BinOp, Block, Expression, FunctionArgs, Stmt, UnOp};
use full_moon::node::Node;
use full_moon::tokenizer::{Symbol, TokenType};

use super::{Walker, identifier, location_of, number_token_text, position_location, span};
use crate::redis_calls::calls::Argument;
use crate::redis_calls::values::{Span, Value};
use crate::{Blame, Diagnostic, Lint, Location, ReturnsShape};

/// The most values `unpack` gives in Redis's Lua (7,999 succeed, 8,000 fail with "too many
/// results to unpack": Lua 5.1's `LUAI_MAXCSTACK` of 8,000 slots, one of them the table).
pub(crate) const UNPACK_LIMIT: usize = 7_999;

/// How deep arithmetic and nested tables are followed; deeper is unknown.
const MAX_DEPTH: usize = 32;

/// The keys that make a table another kind of reply than an array (`{err = 'x'}` is an error).
const REPLY_KIND_KEYS: &[&str] = &[
    "big_number",
    "double",
    "err",
    "map",
    "ok",
    "set",
    "verbatim_string",
];

/// What the analysis knows of a value as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Numeric {
    /// This number, computed from literals.
    Constant(f64),
    /// A whole number: `#t`, `math.floor(x)`, integer arithmetic of those.
    Integer,
    /// Arithmetic that can give a fraction: `a / b`, `x ^ 0.5`, `math.sqrt(x)`, ...
    MayBeFraction,
    /// Anything else, a number or not.
    Unknown,
}

impl Numeric {
    fn whole(self) -> bool {
        match self {
            Numeric::Integer => true,
            Numeric::Constant(value) => value.is_finite() && value.fract() == 0.0,
            _ => false,
        }
    }

    /// Whether Redis may drop a fraction of it (an infinity or NaN is another matter).
    pub(crate) fn fraction(self) -> bool {
        match self {
            Numeric::MayBeFraction => true,
            Numeric::Constant(value) => value.is_finite() && value.fract() != 0.0,
            _ => false,
        }
    }

    fn known(self) -> bool {
        self != Numeric::Unknown
    }

    /// `a + b`, `a - b`, `a * b`: whole when both are, possibly fractional when one may be and
    /// the other is known.
    fn combine(self, other: Numeric, constant: impl FnOnce(f64, f64) -> f64) -> Numeric {
        match (self, other) {
            (Numeric::Constant(a), Numeric::Constant(b)) => Numeric::Constant(constant(a, b)),
            (a, b) if a.whole() && b.whole() => Numeric::Integer,
            (a, b) if a.known() && b.known() => Numeric::MayBeFraction,
            _ => Numeric::Unknown,
        }
    }

    fn arithmetic(operator: &BinOp, left: Numeric, right: Numeric) -> Numeric {
        match operator {
            BinOp::Plus(_) => left.combine(right, |a, b| a + b),
            BinOp::Minus(_) => left.combine(right, |a, b| a - b),
            BinOp::Star(_) => left.combine(right, |a, b| a * b),
            // Lua 5.1: a % b == a - floor(a / b) * b.
            BinOp::Percent(_) => left.combine(right, |a, b| a - (a / b).floor() * b),
            BinOp::Slash(_) => match (left, right) {
                (Numeric::Constant(a), Numeric::Constant(b)) => Numeric::Constant(a / b),
                (left, Numeric::Constant(divisor)) if divisor.abs() == 1.0 => left,
                _ => Numeric::MayBeFraction,
            },
            BinOp::Caret(_) => match (left, right) {
                (Numeric::Constant(a), Numeric::Constant(b)) => Numeric::Constant(a.powf(b)),
                // A power by a whole exponent of 0 or more is repeated multiplication.
                (base, Numeric::Constant(exponent))
                    if exponent >= 0.0 && exponent.fract() == 0.0 =>
                {
                    base.combine(base, |a, _| a)
                }
                _ => Numeric::MayBeFraction,
            },
            _ => Numeric::Unknown,
        }
    }

    /// `math.name(arguments)`.
    fn math(name: &str, arguments: &[Numeric]) -> Numeric {
        match name {
            "floor" | "ceil" => Numeric::Integer,
            // The integral part (`math.modf`'s first value).
            "modf" => Numeric::Integer,
            "abs" => match arguments.first() {
                Some(Numeric::Constant(value)) => Numeric::Constant(value.abs()),
                Some(&value) => value,
                None => Numeric::Unknown,
            },
            "max" | "min" => {
                if arguments.is_empty() || !arguments.iter().all(|value| value.known()) {
                    Numeric::Unknown
                } else if arguments.iter().all(|value| value.whole()) {
                    Numeric::Integer
                } else {
                    Numeric::MayBeFraction
                }
            }
            // `math.random()` is in [0, 1); with bounds it gives whole numbers.
            "random" if arguments.is_empty() => Numeric::MayBeFraction,
            "random" => Numeric::Integer,
            "fmod" => match arguments {
                [left, right] => left.combine(*right, |a, b| a % b),
                _ => Numeric::Unknown,
            },
            "sqrt" | "exp" | "log" | "log10" | "pow" | "sin" | "cos" | "tan" | "asin" | "acos"
            | "atan" | "atan2" | "sinh" | "cosh" | "tanh" | "deg" | "rad" | "ldexp" | "frexp" => {
                Numeric::MayBeFraction
            }
            _ => Numeric::Unknown,
        }
    }
}

/// The table constructor an expression is, through parentheses.
pub(crate) fn table_constructor(expression: &Expression) -> Option<&ast::TableConstructor> {
    match expression {
        Expression::TableConstructor(table) => Some(table),
        Expression::Parentheses { expression, .. } => table_constructor(expression),
        _ => None,
    }
}

fn is_symbol(expression: &Expression, wanted: Symbol) -> bool {
    match expression {
        Expression::Symbol(token) => {
            matches!(token.token_type(), TokenType::Symbol { symbol } if *symbol == wanted)
        }
        Expression::Parentheses { expression, .. } => is_symbol(expression, wanted),
        _ => false,
    }
}

/// The string keys a table constructor writes, and whether it may be another kind of reply.
struct TableKeys {
    /// Each literal string key and where it is written.
    strings: Vec<(String, Location)>,
    /// A key that makes the table another kind of reply (`err`, `ok`, ...), or a key computed
    /// at run time that may be one.
    other_kind: bool,
}

fn table_keys(table: &ast::TableConstructor) -> TableKeys {
    let mut keys = TableKeys {
        strings: Vec::new(),
        other_kind: false,
    };
    for field in table.fields().iter() {
        let (name, location) = match field {
            ast::Field::NameKey { key, .. } => match identifier(key) {
                Some(name) => (name.to_owned(), location_of(key.token())),
                None => continue,
            },
            ast::Field::ExpressionKey { key, .. } => match &**key {
                Expression::String(token) => {
                    match crate::redis_calls::lua_text::string_value(token.token_type()) {
                        Some(name) => (name, location_of(token.token())),
                        None => {
                            keys.other_kind = true;
                            continue;
                        }
                    }
                }
                Expression::Number(_) => continue,
                _ => {
                    keys.other_kind = true;
                    continue;
                }
            },
            _ => continue,
        };
        keys.other_kind |= REPLY_KIND_KEYS.contains(&name.as_str());
        keys.strings.push((name, location));
    }
    keys
}

/// The replies of the body being walked, for the check at its end.
#[derive(Default)]
pub(crate) struct Replies {
    /// How many `return`s reply.
    returns: usize,
    /// The ones that reply an array, each statement and where it is.
    arrays: Vec<(Span, Location)>,
}

/// What a reply is, as far as the type check needs to know.
enum Reply<'a> {
    /// `nil`, `false`, or no value.
    Nil,
    /// A table as this constructor builds it.
    Table(&'a ast::TableConstructor),
    Other,
}

impl<'a> Walker<'a, '_> {
    /// The value of `expression` as a number.
    pub(super) fn number(&mut self, expression: &'a Expression) -> Numeric {
        self.number_at(expression, 0)
    }

    fn number_at(&mut self, expression: &'a Expression, depth: usize) -> Numeric {
        if depth > MAX_DEPTH {
            return Numeric::Unknown;
        }
        match expression {
            Expression::Number(token) => number_token_text(token)
                .and_then(number_value)
                .map_or(Numeric::Unknown, Numeric::Constant),
            Expression::Parentheses { expression, .. } => self.number_at(expression, depth + 1),
            Expression::UnaryOperator { unop, expression } => match unop {
                UnOp::Minus(_) => match self.number_at(expression, depth + 1) {
                    Numeric::Constant(value) => Numeric::Constant(-value),
                    other => other,
                },
                UnOp::Hash(_) => Numeric::Integer,
                _ => Numeric::Unknown,
            },
            Expression::BinaryOperator { lhs, binop, rhs } => {
                let left = self.number_at(lhs, depth + 1);
                let right = self.number_at(rhs, depth + 1);
                Numeric::arithmetic(binop, left, right)
            }
            Expression::Var(ast::Var::Name(name)) => self.local_number(name),
            Expression::Var(ast::Var::Expression(var)) => {
                let mut suffixes = var.suffixes();
                match (var.prefix(), suffixes.next(), suffixes.next()) {
                    (
                        ast::Prefix::Name(library),
                        Some(ast::Suffix::Index(ast::Index::Dot { name, .. })),
                        None,
                    ) if identifier(name) == Some("pi") && self.is_math(library) => {
                        Numeric::Constant(std::f64::consts::PI)
                    }
                    _ => Numeric::Unknown,
                }
            }
            Expression::FunctionCall(call) => {
                let mut suffixes = call.suffixes();
                let (
                    ast::Prefix::Name(library),
                    Some(ast::Suffix::Index(ast::Index::Dot { name, .. })),
                    Some(ast::Suffix::Call(ast::Call::AnonymousCall(call_arguments))),
                    None,
                ) = (
                    call.prefix(),
                    suffixes.next(),
                    suffixes.next(),
                    suffixes.next(),
                )
                else {
                    return Numeric::Unknown;
                };
                let FunctionArgs::Parentheses { arguments, .. } = &**call_arguments else {
                    return Numeric::Unknown;
                };
                if !self.is_math(library) {
                    return Numeric::Unknown;
                }
                let Some(function) = identifier(name) else {
                    return Numeric::Unknown;
                };
                let arguments: Vec<Numeric> = arguments
                    .iter()
                    .map(|argument| self.number_at(argument, depth + 1))
                    .collect();
                Numeric::math(function, &arguments)
            }
            _ => Numeric::Unknown,
        }
    }

    fn is_math(&mut self, token: &full_moon::tokenizer::TokenReference) -> bool {
        identifier(token) == Some("math") && !self.is_local("math")
    }

    /// A local's initial value as a number, if it is never assigned again.
    fn local_number(&mut self, token: &full_moon::tokenizer::TokenReference) -> Numeric {
        let Some(name) = identifier(token) else {
            return Numeric::Unknown;
        };
        let known = self.known_assignments;
        match self.lookup(name) {
            Some(local) if !known.is_some_and(|known| known.locals.contains_key(&local.id)) => {
                local.number
            }
            _ => Numeric::Unknown,
        }
    }

    /// The table a returned local holds as it was built: never assigned again, and read only
    /// by the `return` (so no code can have changed it).
    fn local_table(
        &mut self,
        token: &full_moon::tokenizer::TokenReference,
    ) -> Option<&'a ast::TableConstructor> {
        let name = identifier(token)?;
        let known = self.known_assignments?;
        let local = self.lookup(name)?;
        let table = local.table?;
        let unchanged =
            !known.locals.contains_key(&local.id) && known.table_reads.get(&local.id) == Some(&1);
        unchanged.then_some(table)
    }

    fn reply(&mut self, expression: Option<&'a Expression>) -> Reply<'a> {
        let Some(expression) = expression else {
            return Reply::Nil;
        };
        if is_symbol(expression, Symbol::Nil) || is_symbol(expression, Symbol::False) {
            return Reply::Nil;
        }
        if let Some(table) = table_constructor(expression) {
            return Reply::Table(table);
        }
        if let Expression::Var(ast::Var::Name(name)) = expression
            && let Some(table) = self.local_table(name)
        {
            return Reply::Table(table);
        }
        Reply::Other
    }

    /// Checks a `return` whose value is the reply.
    pub(super) fn check_reply(&mut self, returned: &'a ast::Return) {
        let first = returned.returns().iter().next();
        let statement = span(returned.start_position(), returned.end_position());
        let location = location_of(returned.token().token());
        self.replies.returns += 1;
        match self.reply(first) {
            Reply::Nil => self.check_nil_reply(statement, location, first.is_none()),
            Reply::Table(table) => {
                self.check_reply_table(table, 0);
                if !table_keys(table).other_kind {
                    self.replies.arrays.push((statement, location));
                }
            }
            Reply::Other => {
                if let Some(expression) = first {
                    self.check_reply_number(expression, None);
                }
            }
        }
    }

    /// Reports a number Redis would truncate; `element` is its position in a returned table.
    fn check_reply_number(&mut self, expression: &'a Expression, element: Option<usize>) {
        let number = self.number(expression);
        if !number.fraction() {
            return;
        }
        let code = self
            .code(span(
                expression.start_position(),
                super::expression_end(expression),
            ))
            .to_string();
        let location = expression
            .start_position()
            .map_or(Location { line: 1, column: 1 }, position_location);
        let subject = match element {
            Some(position) => format!("`{code}`, element {position} of the returned table,"),
            None => format!("the reply `{code}`"),
        };
        let message = match number {
            Numeric::Constant(value) => format!(
                "{subject} is {value}, not an integer: Redis converts a Lua number in a reply to \
                 an integer, so it arrives as {}",
                value.trunc()
            ),
            _ => format!(
                "{subject} may not be an integer (`/`, `^` and functions such as `math.sqrt` \
                 give fractions): Redis converts a Lua number in a reply to an integer, \
                 dropping the fraction (3.7 arrives as 3)"
            ),
        };
        self.report(Diagnostic::new(
            Lint::FractionInReply,
            Some(location),
            message,
            format!(
                "to keep the fraction, reply a string: `tostring({code})` (Redis sends a string \
                 as it is); if an integer is meant, round it: `math.floor({code})`"
            ),
            Blame::Script,
        ));
    }

    /// Checks a returned table constructor: a nil that ends its array, string keys that are
    /// dropped, numbers that lose their fraction, in it and in the tables nested in it.
    fn check_reply_table(&mut self, table: &'a ast::TableConstructor, depth: usize) {
        let elements: Vec<&'a Expression> = table
            .fields()
            .iter()
            .filter_map(|field| match field {
                ast::Field::NoKey(value) => Some(value),
                _ => None,
            })
            .collect();
        let mut nil_reported = false;
        for (index, element) in elements.iter().copied().enumerate() {
            let position = index + 1;
            if is_symbol(element, Symbol::Nil) {
                if !nil_reported {
                    nil_reported = true;
                    self.report_nil_element(element, position, elements.len());
                }
            } else if let Some(nested) = table_constructor(element) {
                if depth < MAX_DEPTH && !nil_reported {
                    self.check_reply_table(nested, depth + 1);
                }
            } else if !nil_reported {
                self.check_reply_number(element, Some(position));
            }
        }
        let keys = table_keys(table);
        if keys.other_kind || keys.strings.is_empty() {
            return;
        }
        let names: Vec<String> = keys
            .strings
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        let outcome = if elements.is_empty() {
            "the reply is an empty array".to_owned()
        } else {
            format!(
                "the reply has only the {} of its array part",
                elements_text(elements.len())
            )
        };
        let location = keys.strings[0].1;
        self.report(Diagnostic::new(
            Lint::StringKeysInReply,
            Some(location),
            format!(
                "the returned table has string keys ({}), which Redis drops: it converts only a \
                 table's array part (entries 1, 2, 3, ...) to a reply, so {outcome}",
                names.join(", ")
            ),
            "reply a flat array of names and values, e.g. `{'name', name, 'score', score}` \
             (which a `HashMap<String, String>` reads), or `cjson.encode(...)` the table and \
             decode the JSON in Rust",
            Blame::Script,
        ));
    }

    fn report_nil_element(&mut self, element: &'a Expression, position: usize, count: usize) {
        let location = element
            .start_position()
            .map_or(Location { line: 1, column: 1 }, position_location);
        let dropped = match count - position {
            0 => format!(
                "the reply has {}, not {position}",
                elements_text(position - 1)
            ),
            after => format!(
                "it and the {} after it are dropped (the reply has {})",
                elements_text(after),
                elements_text(position - 1)
            ),
        };
        self.report(Diagnostic::new(
            Lint::NilInReplyArray,
            Some(location),
            format!(
                "`nil` is element {position} of the returned table, and Redis converts a Lua \
                 array only up to its first nil: {dropped}"
            ),
            "use `false` where there is no value: Redis replies it as a nil element and goes \
             on (`{'a', false, 'c'}` arrives as [\"a\", nil, \"c\"])",
            Blame::Script,
        ));
    }

    fn check_nil_reply(&mut self, statement: Span, location: Location, bare: bool) {
        let shape = self.context.declaration.returns;
        if shape.accepts_nil() != Some(false) {
            return;
        }
        let code = self.code(statement).to_string();
        let what = if bare {
            "`return` without a value replies nil".to_owned()
        } else if code.contains("false") {
            format!("`{code}` replies nil (Redis converts `false` to a nil reply)")
        } else {
            format!("`{code}` replies nil")
        };
        self.report_nil_mismatch(what, location, shape);
    }

    fn report_nil_mismatch(&mut self, what: String, location: Location, shape: ReturnsShape) {
        self.report(Diagnostic::new(
            Lint::ReplyTypeMismatch,
            Some(location),
            format!(
                "{what}, but the struct's `returns` type is {}, which cannot hold nil: the call \
                 would fail with a conversion error",
                shape.describe()
            ),
            "declare `returns = Option<...>` (nil arrives as `None`), or reply a value here",
            Blame::Returns,
        ));
    }

    fn report_array_reply(&mut self, statement: Span, location: Location, returns: usize) {
        let shape = self.context.declaration.returns;
        let code = self.code(statement);
        let every = match returns {
            1 => String::new(),
            _ => format!(" (as do the script's other {} returns)", returns - 1),
        };
        self.report(Diagnostic::new(
            Lint::ReplyTypeMismatch,
            Some(location),
            format!(
                "`{code}` replies an array{every}, but the struct's `returns` type is {}, which \
                 cannot hold an array: the call would fail with a conversion error",
                shape.describe()
            ),
            "declare a type that holds an array, e.g. `Vec<String>`, a tuple or \
             `redis::Value`, or reply a single value here",
            Blame::Returns,
        ));
    }

    /// At the end of the block whose `return`s are the reply: a script (or callback) that can
    /// run to its end without `return` replies nil.
    /// Also checks the array replies: a type that cannot hold one is reported only when every
    /// reply is an array, since a script may choose its reply's kind by its arguments.
    pub(crate) fn check_reply_end(&mut self, block: &'a Block) {
        let replies = std::mem::take(&mut self.replies);
        let shape = self.context.declaration.returns;
        let always_returns = matches!(block.last_stmt(), Some(ast::LastStmt::Return(_)));
        if always_returns
            && shape.accepts_array() == Some(false)
            && replies.returns == replies.arrays.len()
            && let Some(&(statement, location)) = replies.arrays.first()
        {
            self.report_array_reply(statement, location, replies.returns);
        }
        if shape.accepts_nil() != Some(false) || block.last_stmt().is_some() {
            return;
        }
        let Some(last) = block.stmts().last() else {
            return;
        };
        // A loop may only end by `return`; `error(...)` never gets to the end.
        let may_not_end = block.stmts().any(|statement| match statement {
            Stmt::While(_) | Stmt::Repeat(_) => true,
            Stmt::FunctionCall(call) => {
                matches!(call.prefix(), ast::Prefix::Name(name) if identifier(name) == Some("error"))
                    && !self.is_local("error")
            }
            _ => false,
        });
        if may_not_end {
            return;
        }
        let what = match last {
            Stmt::If(node)
                if node.else_block().is_none() && !is_symbol(node.condition(), Symbol::True) =>
            {
                "when no branch of this `if` returns, the script ends without `return` and \
                 replies nil"
            }
            Stmt::LocalAssignment(_)
            | Stmt::Assignment(_)
            | Stmt::FunctionCall(_)
            | Stmt::LocalFunction(_)
            | Stmt::FunctionDeclaration(_)
            | Stmt::NumericFor(_)
            | Stmt::GenericFor(_) => {
                "the script ends after this statement without `return`, so it replies nil"
            }
            _ => return,
        };
        let location = last
            .start_position()
            .map_or(Location { line: 1, column: 1 }, position_location);
        self.report_nil_mismatch(what.to_owned(), location, shape);
    }

    /// `unpack(KEYS)` / `unpack(ARGV)` without an end bound, of a table a variadic field fills.
    pub(super) fn check_unpack(&mut self, arguments: &[Argument], site: Span, location: Location) {
        if self.known_assignments.is_none() || !self.declared_checks() {
            return;
        }
        let bounded = match arguments {
            [_, _, _, ..] => true,
            // `unpack(KEYS, f())` may be given both bounds by the call.
            [_, start] => start.multiple,
            _ => false,
        };
        let Some(table) = arguments.first().filter(|_| !bounded) else {
            return;
        };
        let declaration = self.context.declaration;
        let (fields, entries, example, blame): (_, _, _, fn(usize) -> Blame) = match table.value {
            Value::KeysTable => (&declaration.keys, "keys", "'DEL', ", Blame::Key),
            Value::ArgvTable => (&declaration.args, "arguments", "'RPUSH', key, ", Blame::Arg),
            _ => return,
        };
        let Some(position) = fields.iter().position(|field| field.variadic) else {
            return;
        };
        let call = self.code(site);
        let table_name = self.code(table.text);
        let field = &fields[position].name;
        let limit = UNPACK_LIMIT;
        self.report(Diagnostic::new(
            Lint::UnboundedUnpack,
            Some(location),
            format!(
                "`{call}` gives one value for each entry of `{table_name}`, and `{field}` is \
                 variadic: Lua's stack takes at most {} values, so a call with {} {entries} or \
                 more fails with \"too many results to unpack\"",
                thousands(limit),
                thousands(limit + 1)
            ),
            format!(
                "unpack in chunks with an end bound, e.g. `for i = 1, #{table_name}, 1000 do \
                 redis.call({example}unpack({table_name}, i, math.min(i + 999, \
                 #{table_name}))) end`; if the list is always short, allow the lint"
            ),
            blame(position),
        ));
    }
}

/// The value of a number literal.
fn number_value(literal: &str) -> Option<f64> {
    match literal
        .strip_prefix("0x")
        .or_else(|| literal.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|value| value as f64),
        None => literal.parse::<f64>().ok(),
    }
}

/// `1 element`, `2 elements`.
fn elements_text(count: usize) -> String {
    match count {
        1 => "1 element".to_owned(),
        _ => format!("{count} elements"),
    }
}

/// `8000` as `8,000`.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

#[cfg(test)]
mod tests {
    use crate::{Blame, Declaration, Diagnostic, Field, Lint, Location, ReturnsShape, analyze};

    fn declaration(returns: ReturnsShape) -> Declaration {
        Declaration {
            name: "Script".into(),
            keys: vec![Field::single("key"), Field::variadic("rest")],
            args: vec![Field::variadic("values")],
            standalone_only: true,
            returns,
            ..Declaration::default()
        }
    }

    /// The diagnostics of the lints this module reports, for a script that reads its tables.
    fn replies(source: &str, returns: ReturnsShape) -> Vec<Diagnostic> {
        let source = format!("local _ = {{KEYS[1], #KEYS, #ARGV}}\n{source}");
        analyze(&source, &declaration(returns))
            .diagnostics
            .into_iter()
            .filter(|diagnostic| {
                matches!(
                    diagnostic.lint,
                    Lint::FractionInReply
                        | Lint::NilInReplyArray
                        | Lint::StringKeysInReply
                        | Lint::ReplyTypeMismatch
                        | Lint::UnboundedUnpack
                )
            })
            .collect()
    }

    fn lints(source: &str) -> Vec<Lint> {
        lints_for(source, ReturnsShape::Value)
    }

    fn lints_for(source: &str, returns: ReturnsShape) -> Vec<Lint> {
        replies(source, returns)
            .into_iter()
            .map(|diagnostic| diagnostic.lint)
            .collect()
    }

    #[test]
    fn fractional_numbers_are_reported() {
        for source in [
            "return 3.7",
            "return -3.7",
            "return 1e-3",
            "return 7 / 2",
            "return tonumber(ARGV[1]) / 2",
            "return #KEYS / #ARGV",
            "return 2 ^ 0.5",
            "return math.sqrt(#KEYS)",
            "return math.random()",
            "return (#KEYS + 0.5) * 2",
            "local average = #KEYS / 3\nreturn average",
            "return math.max(#KEYS, 0.5)",
            "return {1.5, 2}",
            "return {'a', {#KEYS / 2}}",
            "if #KEYS > 1 then return 0.25 end\nreturn 1",
        ] {
            assert_eq!(lints(source), [Lint::FractionInReply], "{source}");
        }
        let diagnostic = &replies("return 3.7", ReturnsShape::Value)[0];
        assert_eq!(diagnostic.location, Some(Location { line: 2, column: 8 }));
        assert_eq!(
            diagnostic.message,
            "the reply `3.7` is 3.7, not an integer: Redis converts a Lua number in a reply to \
             an integer, so it arrives as 3"
        );
        assert!(
            diagnostic.help.contains("`tostring(3.7)`"),
            "{}",
            diagnostic.help
        );
        assert!(
            diagnostic.help.contains("`math.floor(3.7)`"),
            "{}",
            diagnostic.help
        );
    }

    #[test]
    fn integers_and_unknown_numbers_are_not_reported() {
        for source in [
            "return 3",
            "return 1.0",
            "return 1e3",
            "return 0x10",
            "return 6 / 2",
            "return #KEYS",
            "return #KEYS * 2 + 1 - #ARGV",
            "return #KEYS % 3",
            "return math.floor(#KEYS / 3)",
            "return math.ceil(7 / 2)",
            "return math.random(1, 6)",
            "return #KEYS / 1",
            "return #KEYS ^ 2",
            // An argument's number is the caller's: most often an integer.
            "return tonumber(ARGV[1])",
            "return tonumber(ARGV[1]) * 2",
            "return tonumber(ARGV[1]) + 0.5",
            "return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])",
            "return tostring(7 / 2)",
            "return string.format('%.2f', 7 / 2)",
            // Reassigned, so its value at the return is not its initial one.
            "local average = #KEYS / 3\naverage = math.floor(average)\nreturn average",
            // A local `math` is not the library.
            "local math = {sqrt = function(x) return x end}\nreturn math.sqrt(4)",
            // Not the reply: a function's own return.
            "local function half(x) return x / 2 end\nreturn math.floor(half(#KEYS))",
            // Infinity and NaN are not fractions.
            "return 1 / 0",
        ] {
            assert_eq!(lints(source), [], "{source}");
        }
    }

    #[test]
    fn nil_in_an_array_is_reported() {
        for source in [
            "return {'a', nil, 'c'}",
            "return {nil, 'a'}",
            "return {'a', nil}",
            "return {'a', (nil), 'c'}",
            "local reply = {'a', nil, 'c'}\nreturn reply",
            "return {'a', {'b', nil, 'c'}}",
        ] {
            assert_eq!(lints(source), [Lint::NilInReplyArray], "{source}");
        }
        let diagnostic = &replies("return {'a', nil, 'c'}", ReturnsShape::Value)[0];
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 2,
                column: 14
            })
        );
        assert_eq!(
            diagnostic.message,
            "`nil` is element 2 of the returned table, and Redis converts a Lua array only up \
             to its first nil: it and the 1 element after it are dropped (the reply has 1 \
             element)"
        );
        assert!(diagnostic.help.contains("`false`"));
    }

    #[test]
    fn values_that_are_not_certainly_nil_are_not_reported() {
        for source in [
            // Redis gives `false` for a missing value, which stays a nil element.
            "return {'a', redis.call('GET', KEYS[1]), 'c'}",
            "return {'a', false, 'c'}",
            "return {KEYS[1], ARGV[1], tonumber(ARGV[2])}",
            "local missing\nreturn {'a', missing}",
            // A table read elsewhere may have been filled in since.
            "local reply = {'a', nil, 'c'}\nreply[2] = 'b'\nreturn reply",
            "local reply = {nil}\nreply = {'a'}\nreturn reply",
            // Not the reply.
            "local function f() return {'a', nil} end\nreturn #f()",
            "local t = {'a', nil}\nreturn #t",
            "return {'a', [3] = 'c'}",
        ] {
            assert_eq!(lints(source), [], "{source}");
        }
    }

    #[test]
    fn string_keys_are_reported() {
        for source in [
            "return {name = 'x'}",
            "return {['name'] = 'x', score = 1}",
            "return {'a', name = 'x'}",
            "local reply = {name = KEYS[1]}\nreturn reply",
            "return {'a', {inner = 1}}",
        ] {
            assert_eq!(lints(source), [Lint::StringKeysInReply], "{source}");
        }
        let diagnostic = &replies("return {name = 'x', score = 1}", ReturnsShape::Value)[0];
        assert_eq!(diagnostic.location, Some(Location { line: 2, column: 9 }));
        assert_eq!(
            diagnostic.message,
            "the returned table has string keys (`name`, `score`), which Redis drops: it \
             converts only a table's array part (entries 1, 2, 3, ...) to a reply, so the reply \
             is an empty array"
        );
        assert!(diagnostic.help.contains("cjson.encode"));
    }

    #[test]
    fn reply_kinds_and_computed_keys_are_not_reported() {
        for source in [
            "return {err = 'bad input'}",
            "return {ok = 'QUEUED'}",
            "return {double = 3.5}",
            "return {map = {a = 1}}",
            "return {[ARGV[1]] = 1}",
            "return {[1] = 'a', [2] = 'b'}",
            "return redis.error_reply('bad')",
            "return cjson.encode({name = 'x'})",
            "local t = {name = 'x'}\nreturn t.name",
            "local t = {name = 'x'}\nt.ok = 'x'\nreturn t",
        ] {
            assert_eq!(lints(source), [], "{source}");
        }
    }

    #[test]
    fn nil_replies_need_a_type_that_holds_nil() {
        for (source, line) in [
            ("return nil", 2),
            ("return false", 2),
            ("return", 2),
            ("if #KEYS > 5 then return end\nreturn 1", 2),
            ("redis.call('SET', KEYS[1], 'x')", 2),
            ("local n = redis.call('INCR', KEYS[1])", 2),
            ("if #KEYS > 5 then return 1 end", 2),
            (
                "if #KEYS > 5 then return 1 elseif #KEYS > 2 then return 2 end",
                2,
            ),
        ] {
            for returns in [
                ReturnsShape::Integer,
                ReturnsShape::Float,
                ReturnsShape::Text,
                ReturnsShape::Tuple,
            ] {
                let found = replies(source, returns);
                assert_eq!(found.len(), 1, "{source}: {found:?}");
                assert_eq!(found[0].lint, Lint::ReplyTypeMismatch);
                assert_eq!(found[0].blame, Blame::Returns);
                assert_eq!(found[0].location.map(|location| location.line), Some(line));
            }
            for returns in [
                ReturnsShape::Bool,
                ReturnsShape::OptionalScalar,
                ReturnsShape::Optional,
                ReturnsShape::Collection,
                ReturnsShape::Unit,
                ReturnsShape::Value,
                ReturnsShape::Unknown,
            ] {
                assert_eq!(lints_for(source, returns), [], "{source} {returns:?}");
            }
        }
        let found = replies("return false", ReturnsShape::Integer);
        assert_eq!(
            found[0].message,
            "`return false` replies nil (Redis converts `false` to a nil reply), but the \
             struct's `returns` type is an integer type, which cannot hold nil: the call would \
             fail with a conversion error"
        );
    }

    #[test]
    fn scripts_that_may_not_reach_their_end_are_not_reported() {
        for source in [
            "return redis.call('INCR', KEYS[1])",
            "return tonumber(redis.call('GET', KEYS[1]))",
            "if #KEYS > 5 then return 1 else return 2 end",
            "if true then return 1 end",
            "while true do return 1 end",
            "redis.call('SET', KEYS[1], 'x')\nerror('always')",
            "do return 1 end",
            "for i = 1, 3 do return i end\nreturn 0",
            "local function f() return nil end\nreturn 1",
            "local reply = {}\nreturn reply",
        ] {
            assert_eq!(
                lints_for(source, ReturnsShape::Integer)
                    .into_iter()
                    .filter(|lint| *lint == Lint::ReplyTypeMismatch)
                    .count(),
                usize::from(source == "local reply = {}\nreturn reply"),
                "{source}"
            );
        }
    }

    #[test]
    fn array_replies_need_a_type_that_holds_an_array() {
        for source in [
            "return {KEYS[1], #KEYS}",
            "local reply = {}\nreturn reply",
            "if #KEYS > 1 then return {1, 2} end\nreturn {3}",
        ] {
            for returns in [
                ReturnsShape::Integer,
                ReturnsShape::Float,
                ReturnsShape::Bool,
                ReturnsShape::Text,
                ReturnsShape::OptionalScalar,
            ] {
                let found = replies(source, returns);
                assert_eq!(found.len(), 1, "{source}: {found:?}");
                assert_eq!(found[0].lint, Lint::ReplyTypeMismatch);
                assert!(
                    found[0].message.contains("replies an array"),
                    "{}",
                    found[0].message
                );
            }
            for returns in [
                ReturnsShape::Collection,
                ReturnsShape::Tuple,
                ReturnsShape::Optional,
                ReturnsShape::Unit,
                ReturnsShape::Value,
                ReturnsShape::Unknown,
            ] {
                assert_eq!(lints_for(source, returns), [], "{source} {returns:?}");
            }
        }
        for source in [
            // The reply's kind may depend on the arguments.
            "if #KEYS > 1 then return {1, 2} end\nreturn 1",
            "if #KEYS > 1 then return {1, 2} end\nreturn redis.call('GET', KEYS[1])",
            "return {ok = 'OK'}",
            "return redis.status_reply('OK')",
            // Read again after it is built: it may be given an `ok` field.
            "local reply = {}\nreply.ok = 'OK'\nreturn reply",
            "local reply = {}\ntable.insert(reply, #KEYS)\nreturn reply",
        ] {
            assert_eq!(lints_for(source, ReturnsShape::Text), [], "{source}");
        }
    }

    #[test]
    fn a_function_replies_from_its_callback() {
        let library = "#!lua name=lib\n\
             local function helper() return nil end\n\
             redis.register_function('f', function(keys, args)\n\
               helper()\n\
               return {keys[1], nil, 3.5}\n\
             end)";
        let declaration = Declaration {
            name: "F".into(),
            keys: vec![Field::single("key")],
            returns: ReturnsShape::Integer,
            standalone_only: true,
            ..Declaration::default()
        };
        let script = crate::AssembledScript::single("lua/lib.lua", library);
        let analysis = crate::analyze_function(&script, "f", &declaration);
        let found: Vec<Lint> = analysis.diagnostics.iter().map(|d| d.lint).collect();
        assert_eq!(
            found,
            [Lint::NilInReplyArray, Lint::ReplyTypeMismatch],
            "{:?}",
            analysis.diagnostics
        );
    }

    #[test]
    fn unbounded_unpack_of_a_variadic_table_is_reported() {
        for source in [
            "return redis.call('DEL', unpack(KEYS))",
            "return redis.call('MGET', unpack(KEYS, 2))",
            "return #{unpack(ARGV)}",
            "local keys = KEYS\nreturn redis.call('DEL', unpack(keys))",
        ] {
            assert_eq!(lints(source), [Lint::UnboundedUnpack], "{source}");
        }
        let found = replies(
            "return redis.call('DEL', unpack(KEYS))",
            ReturnsShape::Value,
        );
        assert_eq!(found[0].blame, Blame::Key(1));
        assert_eq!(
            found[0].location,
            Some(Location {
                line: 2,
                column: 26
            })
        );
        assert_eq!(
            found[0].message,
            "`unpack(KEYS)` gives one value for each entry of `KEYS`, and `rest` is variadic: \
             Lua's stack takes at most 7,999 values, so a call with 8,000 keys or more fails \
             with \"too many results to unpack\""
        );
        assert!(
            found[0]
                .help
                .contains("unpack(KEYS, i, math.min(i + 999, #KEYS))")
        );
        let found = replies("return #{unpack(ARGV)}", ReturnsShape::Value);
        assert_eq!(found[0].blame, Blame::Arg(0));
        for source in [
            "return redis.call('DEL', unpack(KEYS, 1, 100))",
            "for i = 1, #KEYS, 1000 do\n  redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS)))\nend\nreturn 1",
            "local t = {1, 2}\nreturn #{unpack(t)}",
        ] {
            assert_eq!(lints(source), [], "{source}");
        }
        // Without a variadic field the table is as long as the struct's fields.
        let fixed = Declaration {
            name: "Fixed".into(),
            keys: vec![Field::single("a"), Field::single("b")],
            standalone_only: true,
            ..Declaration::default()
        };
        assert_eq!(
            analyze("return redis.call('DEL', unpack(KEYS))", &fixed).diagnostics,
            []
        );
    }

    #[test]
    fn allows_silence_them() {
        let source = "local _ = {KEYS[1], #KEYS, #ARGV}\n\
                      return {3.5, name = 'x'} -- redis-script: allow(fraction_in_reply, string_keys_in_reply)";
        assert_eq!(
            analyze(source, &declaration(ReturnsShape::Value)).diagnostics,
            []
        );
        let mut allowed = declaration(ReturnsShape::Integer);
        allowed.allow = vec![Lint::ReplyTypeMismatch, Lint::NilInReplyArray];
        assert_eq!(
            analyze("local _ = {KEYS[1], #KEYS, #ARGV}\nreturn {nil}", &allowed).diagnostics,
            []
        );
    }

    #[test]
    fn thousands_separate_digits() {
        assert_eq!(super::thousands(7_999), "7,999");
        assert_eq!(super::thousands(800), "800");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }
}
