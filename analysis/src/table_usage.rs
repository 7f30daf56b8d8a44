use std::collections::HashSet;

use full_moon::ast::{
    self, Block, Expression, Field, FunctionBody, FunctionCall, GenericFor, Index, LocalAssignment,
    LocalFunction, MethodCall, NumericFor, Parameter, Prefix, Suffix,
};
use full_moon::tokenizer::{Token, TokenReference, TokenType};
use full_moon::visitors::{Visit, Visitor};

use crate::Location;

/// One read of `KEYS[n]` / `ARGV[n]` with a number literal as the index.
///
/// ```
/// use redis_script_analysis::find_table_usages;
///
/// let usages = find_table_usages(&full_moon::parse("return ARGV[2]").unwrap());
/// assert_eq!(usages.args.literal_indices[0].index, 2);
/// assert_eq!(usages.args.literal_indices[0].location.column, 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteralIndex {
    /// The index; `0` when the literal is not a positive whole number, which always reads nil.
    pub index: u64,
    /// The literal as written, e.g. `1` or `0x2`.
    pub literal: String,
    /// Where the table's name (`KEYS` / `ARGV`) starts.
    pub location: Location,
}

/// How a script reads one of the tables `KEYS` or `ARGV`.
///
/// ```
/// use redis_script_analysis::find_table_usages;
///
/// let usages = find_table_usages(&full_moon::parse("for i = 1, #KEYS do end").unwrap());
/// assert!(usages.keys.dynamic.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableUsage {
    /// Every `TABLE[<number literal>]`, in source order.
    pub literal_indices: Vec<LiteralIndex>,
    /// The first use that cannot be counted statically (`#KEYS`, `KEYS[i]`, `ipairs(KEYS)`,
    /// `unpack(KEYS)`, `local k = KEYS`, ...); `None` when every use is a literal index.
    pub dynamic: Option<Location>,
}

impl TableUsage {
    /// Whether `TABLE[index]` is read with this literal index.
    ///
    /// ```
    /// use redis_script_analysis::find_table_usages;
    ///
    /// let usages = find_table_usages(&full_moon::parse("return KEYS[1]").unwrap());
    /// assert!(usages.keys.reads_literal(1) && !usages.keys.reads_literal(2));
    /// ```
    pub fn reads_literal(&self, index: u64) -> bool {
        self.literal_indices.iter().any(|read| read.index == index)
    }

    /// The highest valid literal index read, if any.
    ///
    /// ```
    /// use redis_script_analysis::find_table_usages;
    ///
    /// let usages = find_table_usages(&full_moon::parse("return {KEYS[2], KEYS[1]}").unwrap());
    /// assert_eq!(usages.keys.highest_literal_index(), Some(2));
    /// ```
    pub fn highest_literal_index(&self) -> Option<u64> {
        self.literal_indices
            .iter()
            .map(|read| read.index)
            .filter(|&index| index > 0)
            .max()
    }
}

/// How a script reads `KEYS` and `ARGV`.
///
/// ```
/// use redis_script_analysis::find_table_usages;
///
/// let usages = find_table_usages(&full_moon::parse("return KEYS[1] .. ARGV[1]").unwrap());
/// assert!(usages.keys.reads_literal(1) && usages.args.reads_literal(1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableUsages {
    /// Uses of `KEYS`.
    pub keys: TableUsage,
    /// Uses of `ARGV`.
    pub args: TableUsage,
}

/// Finds every use of `KEYS` and `ARGV` in a parsed script.
///
/// A name counts as a use of the table wherever it is a variable; `t.KEYS`, `t:KEYS()` and
/// `{KEYS = 1}` are field names and do not count, while `_G.KEYS[1]` reads `KEYS[1]` and any
/// other use of `_G` as a value (`rawget(_G, k)`) may read either table. A script that
/// declares its own `KEYS` (a local, a parameter, a loop variable) is treated as reading the
/// table dynamically, which keeps every check silent, and its literal indices where that
/// declaration is in scope are not reads of the table.
///
/// ```
/// use redis_script_analysis::find_table_usages;
///
/// let usages = find_table_usages(&full_moon::parse("local t = {KEYS = 1} return t.KEYS").unwrap());
/// assert_eq!(usages, Default::default());
/// let shadowed = find_table_usages(&full_moon::parse("local KEYS = {} return KEYS[5]").unwrap());
/// assert!(shadowed.keys.literal_indices.is_empty() && shadowed.keys.dynamic.is_some());
/// ```
pub fn find_table_usages(ast: &ast::Ast) -> TableUsages {
    let mut finder = Finder::default();
    finder.visit_ast(ast);
    finder.usages()
}

/// How a function of a library reads its keys and args: [`find_table_usages`] for the
/// callback's first and second parameters, which are what `KEYS` and `ARGV` are to a script.
pub(crate) fn find_parameter_usages(body: &FunctionBody) -> TableUsages {
    let mut finder = Finder {
        tables: parameter_names(body),
        parameters: true,
        ..Finder::default()
    };
    finder.scopes.push(Vec::new());
    body.block().visit(&mut finder);
    finder.usages()
}

/// The names of a callback's first two parameters: its keys and its args.
pub(crate) fn parameter_names(body: &FunctionBody) -> [Option<String>; 2] {
    let mut names = body.parameters().iter().map(|parameter| match parameter {
        Parameter::Name(name) => match name.token().token_type() {
            TokenType::Identifier { identifier } => Some(identifier.to_string()),
            _ => None,
        },
        _ => None,
    });
    [names.next().flatten(), names.next().flatten()]
}

impl Finder {
    fn usages(&self) -> TableUsages {
        let finder = self;
        // The names that are read with a literal index, to tell them from the other uses in
        // one look-up each (searching the list for every name is quadratic in a long script).
        let literal_bytes: HashSet<usize> = finder
            .literal_indices
            .iter()
            .map(|(_, byte, _)| *byte)
            .collect();
        let mut usages = TableUsages::default();
        for (table, usage) in [("KEYS", &mut usages.keys), ("ARGV", &mut usages.args)] {
            usage.literal_indices = finder
                .literal_indices
                .iter()
                .filter(|(name, _, _)| *name == table)
                .map(|(_, _, read)| read.clone())
                .collect();
            usage.dynamic = finder
                .names
                .iter()
                .filter(|(name, byte, _)| {
                    *name == table
                        && !finder.not_variables.contains(byte)
                        && !literal_bytes.contains(byte)
                })
                .map(|(_, _, location)| *location)
                .chain(
                    finder
                        .dynamic
                        .iter()
                        .filter(|(name, _)| *name == table)
                        .map(|(_, location)| *location),
                )
                .chain(
                    finder
                        .globals_tables
                        .iter()
                        .filter(|(byte, _)| {
                            !finder.not_variables.contains(byte)
                                && !finder.followed_globals.contains(byte)
                        })
                        .map(|(_, location)| *location),
                )
                .min();
        }
        usages
    }
}

#[derive(Default)]
struct Finder {
    /// The names read as `KEYS` and `ARGV`: the callback's parameters in a function library,
    /// `None` for the globals themselves.
    tables: [Option<String>; 2],
    /// Reading a function's parameters, not a script's globals: `_G` reaches neither.
    parameters: bool,
    /// Every `KEYS` / `ARGV` identifier token: (table, byte offset, location).
    names: Vec<(&'static str, usize, Location)>,
    /// Reads with a literal index: (table, byte offset of the name, the read).
    literal_indices: Vec<(&'static str, usize, LiteralIndex)>,
    /// Byte offsets of identifiers that are field or method names, not variables.
    not_variables: HashSet<usize>,
    /// Uses of a table that are dynamic without a `KEYS` / `ARGV` identifier (`_G.KEYS`).
    dynamic: Vec<(&'static str, Location)>,
    /// Every `_G` identifier: (byte offset, location).
    globals_tables: Vec<(usize, Location)>,
    /// `_G` identifiers indexed with a literal name (`_G.KEYS`, `_G.redis`), which read only
    /// that global.
    followed_globals: HashSet<usize>,
    /// The names among `KEYS`, `ARGV` and `_G` that locals shadow, per open scope.
    scopes: Vec<Vec<&'static str>>,
}

impl Finder {
    fn prefixed<'a>(&mut self, prefix: &Prefix, mut suffixes: impl Iterator<Item = &'a Suffix>) {
        let Prefix::Name(name) = prefix else { return };
        let Some(variable) = self.shadowable(name.token()) else {
            return;
        };
        if self.shadowed(variable) {
            // A local of that name: not the table.
            return;
        }
        let table = if variable == "_G" {
            let field = match suffixes.next() {
                Some(Suffix::Index(Index::Dot { name: field, .. })) => match field.token_type() {
                    TokenType::Identifier { identifier } => Some(identifier.to_string()),
                    _ => None,
                },
                Some(Suffix::Index(Index::Brackets { expression, .. })) => match &**expression {
                    Expression::String(text) => {
                        crate::redis_calls::lua_text::string_value(text.token_type())
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some(field) = field else {
                return; // `_G[k]`, `_G(...)`: a dynamic use of both tables, as a bare `_G`
            };
            self.followed_globals
                .insert(name.token().start_position().bytes());
            match field.as_str() {
                "KEYS" => "KEYS",
                "ARGV" => "ARGV",
                _ => return,
            }
        } else {
            variable
        };
        let location = location_of(name.token());
        let Some(Suffix::Index(Index::Brackets { expression, .. })) = suffixes.next() else {
            if variable == "_G" {
                self.dynamic.push((table, location));
            }
            return;
        };
        let Expression::Number(number) = &**expression else {
            if variable == "_G" {
                self.dynamic.push((table, location));
            }
            return;
        };
        let literal = number.token().to_string();
        let start = name.token().start_position();
        self.literal_indices.push((
            table,
            start.bytes(),
            LiteralIndex {
                index: parse_index(&literal),
                literal,
                location,
            },
        ));
    }

    fn shadowed(&self, name: &str) -> bool {
        self.scopes.iter().flatten().any(|local| *local == name)
    }

    /// Declares a local in the innermost scope, if it is one of the names that matter.
    fn declare(&mut self, token: &TokenReference) {
        let Some(name) = self.shadowable(token.token()) else {
            return;
        };
        if name == "_G" {
            // The declaration itself is no use of the sandbox's `_G`.
            self.followed_globals
                .insert(token.token().start_position().bytes());
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(name);
        }
    }

    fn not_a_variable(&mut self, name: &TokenReference) {
        self.not_variables
            .insert(name.token().start_position().bytes());
    }
}

impl Visitor for Finder {
    fn visit_block(&mut self, _: &Block) {
        self.scopes.push(Vec::new());
    }

    fn visit_block_end(&mut self, _: &Block) {
        self.scopes.pop();
    }

    fn visit_function_body(&mut self, node: &FunctionBody) {
        self.scopes.push(Vec::new());
        for parameter in node.parameters() {
            if let Parameter::Name(name) = parameter {
                self.declare(name);
            }
        }
    }

    fn visit_function_body_end(&mut self, _: &FunctionBody) {
        self.scopes.pop();
    }

    // The loop variables are in scope in the body; the scope also covers the loop's own
    // expressions, where a `KEYS` of that name is then taken for the local: an unknown read.
    fn visit_numeric_for(&mut self, node: &NumericFor) {
        self.scopes.push(Vec::new());
        self.declare(node.index_variable());
    }

    fn visit_numeric_for_end(&mut self, _: &NumericFor) {
        self.scopes.pop();
    }

    fn visit_generic_for(&mut self, node: &GenericFor) {
        self.scopes.push(Vec::new());
        for name in node.names() {
            self.declare(name);
        }
    }

    fn visit_generic_for_end(&mut self, _: &GenericFor) {
        self.scopes.pop();
    }

    // `local KEYS = KEYS[1]` reads the table: the name is in scope after the statement.
    fn visit_local_assignment_end(&mut self, node: &LocalAssignment) {
        for name in node.names() {
            self.declare(name);
        }
    }

    fn visit_local_function(&mut self, node: &LocalFunction) {
        self.declare(node.name());
    }

    fn visit_var_expression(&mut self, node: &ast::VarExpression) {
        self.prefixed(node.prefix(), node.suffixes());
    }

    fn visit_function_call(&mut self, node: &FunctionCall) {
        self.prefixed(node.prefix(), node.suffixes());
    }

    fn visit_index(&mut self, node: &Index) {
        if let Index::Dot { name, .. } = node {
            self.not_a_variable(name);
        }
    }

    fn visit_method_call(&mut self, node: &MethodCall) {
        self.not_a_variable(node.name());
    }

    fn visit_field(&mut self, node: &Field) {
        if let Field::NameKey { key, .. } = node {
            self.not_a_variable(key);
        }
    }

    fn visit_identifier(&mut self, token: &Token) {
        if let Some(table) = self.table_name(token) {
            self.names
                .push((table, token.start_position().bytes(), location_of(token)));
        } else if self.shadowable(token) == Some("_G") && !self.shadowed("_G") {
            self.globals_tables
                .push((token.start_position().bytes(), location_of(token)));
        }
    }
}

impl Finder {
    /// `KEYS`, `ARGV` or `_G`.
    fn shadowable(&self, token: &Token) -> Option<&'static str> {
        match token.token_type() {
            TokenType::Identifier { identifier }
                if identifier.as_str() == "_G" && !self.parameters =>
            {
                Some("_G")
            }
            _ => self.table_name(token),
        }
    }

    /// `KEYS` or `ARGV`, for the names that stand for them.
    fn table_name(&self, token: &Token) -> Option<&'static str> {
        let TokenType::Identifier { identifier } = token.token_type() else {
            return None;
        };
        let name = identifier.as_str();
        if !self.parameters {
            return match name {
                "KEYS" => Some("KEYS"),
                "ARGV" => Some("ARGV"),
                _ => None,
            };
        }
        match &self.tables {
            [Some(keys), _] if keys == name => Some("KEYS"),
            [_, Some(args)] if args == name => Some("ARGV"),
            _ => None,
        }
    }
}

pub(crate) fn location_of(token: &Token) -> Location {
    let start = token.start_position();
    Location {
        line: start.line(),
        column: start.character(),
    }
}

/// Lua number literal to a table index; anything but a positive whole number maps to 0.
fn parse_index(literal: &str) -> u64 {
    let parsed = match literal
        .strip_prefix("0x")
        .or_else(|| literal.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => literal.parse::<u64>().ok().or_else(|| {
            let float = literal.parse::<f64>().ok()?;
            (float.fract() == 0.0 && float >= 1.0 && float < u64::MAX as f64)
                .then_some(float as u64)
        }),
    };
    parsed.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usages(source: &str) -> TableUsages {
        find_table_usages(&full_moon::parse(source).expect("test scripts are valid Lua"))
    }

    #[test]
    fn literal_indices_with_locations() {
        let found = usages("local a = KEYS[1]\nlocal b = KEYS[2]:upper()\nreturn ARGV[0x3]");
        let keys: Vec<_> = found
            .keys
            .literal_indices
            .iter()
            .map(|read| (read.index, read.location.line, read.location.column))
            .collect();
        assert_eq!(keys, vec![(1, 1, 11), (2, 2, 11)]);
        assert_eq!(found.args.literal_indices[0].index, 3);
        assert_eq!(found.args.literal_indices[0].literal, "0x3");
        assert_eq!(found.keys.dynamic, None);
        assert_eq!(found.args.dynamic, None);
    }

    #[test]
    fn every_dynamic_form_is_recognised() {
        for source in [
            "return #KEYS",
            "for _, k in ipairs(KEYS) do end",
            "return redis.call('DEL', unpack(KEYS))",
            "local i = 1 return KEYS[i]",
            "local keys = KEYS return keys[1]",
            "return KEYS[1 + 1]",
            "return KEYS[-1]",
            "local KEYS = {} return KEYS[1]",
        ] {
            let found = usages(source);
            assert!(found.keys.dynamic.is_some(), "{source}");
        }
    }

    #[test]
    fn shadowed_tables_are_not_read() {
        let found = usages("local KEYS = {'a'}\nreturn KEYS[5]");
        assert!(found.keys.literal_indices.is_empty());
        assert!(found.keys.dynamic.is_some());
        let parameter = usages("local function f(KEYS, ARGV) return KEYS[3], ARGV[4] end");
        assert!(parameter.keys.literal_indices.is_empty());
        assert!(parameter.args.literal_indices.is_empty());
        // Before the declaration, and outside the function, `KEYS` is the table.
        let scoped = usages(
            "local a = KEYS[1]\nlocal function f(KEYS) return KEYS[7] end\nlocal KEYS = KEYS[2]\nreturn KEYS[9]",
        );
        let indices: Vec<u64> = scoped
            .keys
            .literal_indices
            .iter()
            .map(|read| read.index)
            .collect();
        assert_eq!(indices, [1, 2]);
        let looped = usages("for _, ARGV in ipairs({}) do local x = ARGV[3] end return ARGV[1]");
        let indices: Vec<u64> = looped
            .args
            .literal_indices
            .iter()
            .map(|read| read.index)
            .collect();
        assert_eq!(indices, [1]);
    }

    #[test]
    fn globals_table_reads_count() {
        let found = usages("return _G.ARGV[1], _G['KEYS'][2], _G.redis");
        assert_eq!(found.args.literal_indices[0].index, 1);
        assert_eq!(found.keys.literal_indices[0].index, 2);
        assert_eq!(found.keys.dynamic, None);
        assert_eq!(found.args.dynamic, None);
        assert!(usages("return #_G.KEYS").keys.dynamic.is_some());
        let any = usages("return rawget(_G, 'ARGV')");
        assert!(any.keys.dynamic.is_some() && any.args.dynamic.is_some());
        assert!(usages("return _G[ARGV[1]]").keys.dynamic.is_some());
        assert_eq!(usages("local _G = {} return _G.x, _G").keys.dynamic, None);
    }

    #[test]
    fn dynamic_location_is_the_first_one() {
        let found = usages("local n = 1\nreturn KEYS[1], #KEYS, #KEYS");
        assert_eq!(
            found.keys.dynamic,
            Some(Location {
                line: 2,
                column: 18
            })
        );
    }

    #[test]
    fn field_and_method_names_are_not_the_tables() {
        let found = usages("local t = {KEYS = 1, ARGV = 2}\nreturn t.KEYS + t:ARGV()");
        assert_eq!(found, TableUsages::default());
    }

    #[test]
    fn odd_index_literals_map_to_zero() {
        assert_eq!(parse_index("1"), 1);
        assert_eq!(parse_index("2.0"), 2);
        assert_eq!(parse_index("1e1"), 10);
        assert_eq!(parse_index("0"), 0);
        assert_eq!(parse_index("1.5"), 0);
    }
}
