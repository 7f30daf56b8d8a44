//! Lua 5.1's limit on nesting, checked before parsing.
//!
//! Lua's parser counts "syntax levels" (blocks, nested expressions, right-associative `..`
//! chains, each unary operator) and refuses a chunk that needs more than 200 ("chunk has too
//! many syntax levels"). The parser used here recurses on the same structures with large
//! frames, so a script nested far beyond that limit could overflow the stack instead of
//! failing cleanly. This module counts, with a small lexer, a lower bound of Lua's levels: open
//! brackets, open blocks, the `..` operators of one chain and consecutive unary operators
//! (`not not x`, `- - x`, `#t`). A script whose count exceeds [`LIMIT`] is one Redis refuses
//! too, so rejecting it up front never rejects a valid script.

use crate::{Blame, Diagnostic, Lint, Location};

/// Counts above this are certainly beyond Lua's 200 levels: the count undercounts Lua's levels
/// everywhere except inside a function's parameter list, where it may exceed them by one.
pub(crate) const LIMIT: usize = 205;

/// How deeply a script nests, as far as the stack it takes to parse and walk it goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Nesting {
    /// The most levels open at once (brackets, blocks, `..` / `^` chains, unary operators in a
    /// row): a lower bound of Lua's syntax levels.
    pub levels: usize,
    /// The longest run of binary operators in one expression, which Lua parses in a loop but
    /// some parsers recursively.
    pub longest_run: usize,
}

/// How deeply `source` nests, or a diagnostic when it nests deeper than Lua 5.1 allows.
pub(crate) fn measure(source: &str) -> Result<Nesting, Diagnostic> {
    let mut lexer = Lexer::new(source.as_bytes());
    let mut nesting = Nesting::default();
    let mut depth: usize = 0;
    // At each bracket depth (index 0: outside brackets): the length of the current `..` chain
    // and of the current `^` chain (both operators are right-associative, so Lua nests one
    // level deeper for each), the current run of binary operators, and the unary operators
    // in a row before the next operand (Lua's parser, and the one used here, recurse once for
    // each).
    let mut chains: Vec<Chains> = vec![Chains::default()];
    let mut after_operand = false;
    while let Some(token) = lexer.next_token() {
        // `-` is binary after an operand, unary anywhere else (`return -x`, `(-x)`, `a * -b`).
        let token = match token {
            Token::Minus if after_operand => Token::Arithmetic,
            Token::Minus => Token::Unary,
            token => token,
        };
        if token == Token::Backtick {
            // Not Lua 5.1; and the parser used here panics on it instead of reporting it.
            let (line, column) = lexer.position();
            return Err(Diagnostic {
                lint: Lint::LuaSyntaxError,
                origin: None,
                location: Some(Location { line, column }),
                message: "Lua syntax error: unexpected character '`' (Redis runs Lua 5.1, which \
                          has no backtick strings)"
                    .to_owned(),
                help: "quote strings with ' or \", or [[ ]] for long strings".to_owned(),
                blame: Blame::Script,
            });
        }
        if let Token::Unfinished(what) = token {
            // As Lua reports it; the parser used here panics on an unclosed long comment.
            let (line, column) = lexer.position();
            return Err(Diagnostic {
                lint: Lint::LuaSyntaxError,
                origin: None,
                location: Some(Location { line, column }),
                message: format!("Lua syntax error: unfinished {what}: it is never closed"),
                help: "close it with `]]` (with as many `=` between the brackets as it opens \
                       with)"
                    .to_owned(),
                blame: Blame::Script,
            });
        }
        let chain = chains.last_mut().map_or(0, |chains| {
            let Chains {
                concat,
                power,
                run,
                unary,
            } = chains;
            if token != Token::Unary {
                *unary = 0;
            }
            match token {
                Token::Concat => {
                    *concat += 1;
                    *power = 0;
                    *run += 1;
                }
                Token::Power => {
                    *power += 1;
                    *run += 1;
                }
                Token::Operand if after_operand => (*concat, *power, *run) = (0, 0, 0),
                // A string after an operand is a call argument (`f 'x'`), else an operand.
                Token::Operand | Token::Call | Token::Dot | Token::Open | Token::Close => {}
                // Part of the next operand, which may continue a `..` or `^` chain.
                Token::Unary => *unary += 1,
                // Tighter than `..`: part of one of its operands.
                Token::Arithmetic | Token::Minus => {
                    *power = 0;
                    *run += 1;
                }
                // Looser than `..`: the chains end, the run goes on.
                Token::Compare => {
                    (*concat, *power) = (0, 0);
                    *run += 1;
                }
                Token::BlockOpen
                | Token::BlockClose
                | Token::Else
                | Token::Separator
                | Token::Backtick
                | Token::Unfinished(_)
                | Token::Other => (*concat, *power, *run) = (0, 0, 0),
            }
            nesting.longest_run = nesting.longest_run.max(*run);
            (*concat).max(*power) + *unary
        });
        match token {
            Token::Open => {
                depth += 1;
                chains.push(Chains::default());
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                if chains.len() > 1 {
                    chains.pop();
                }
            }
            Token::BlockOpen => depth += 1,
            Token::BlockClose => depth = depth.saturating_sub(1),
            _ => {}
        }
        after_operand = matches!(token, Token::Operand | Token::Close | Token::Call);
        nesting.levels = nesting.levels.max(depth + chain);
        if depth + chain > LIMIT {
            let (line, column) = lexer.position();
            return Err(Diagnostic {
                lint: Lint::LuaTooDeeplyNested,
                origin: None,
                location: Some(Location { line, column }),
                message: "the script nests deeper here than the 200 syntax levels Lua 5.1 \
                          allows (blocks, brackets, `..` chains and unary operators in a row \
                          count), so Redis refuses it (\"chunk has too many syntax levels\")"
                    .to_owned(),
                help: "split deep expressions with local variables and deep blocks into local \
                       functions"
                    .to_owned(),
                blame: Blame::Script,
            });
        }
    }
    Ok(nesting)
}

/// What is open at one bracket depth, besides the brackets.
#[derive(Clone, Copy, Debug, Default)]
struct Chains {
    /// `..` operators in the current chain.
    concat: usize,
    /// `^` operators in the current chain.
    power: usize,
    /// Binary operators in the current expression.
    run: usize,
    /// Unary operators since the last operand.
    unary: usize,
}

#[cfg(test)]
fn too_deeply_nested(source: &str) -> Option<Diagnostic> {
    measure(source).err()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    /// `(`, `[`, `{`.
    Open,
    /// `)`, `]`, `}`.
    Close,
    /// `function`, `do`, `then`, `repeat`.
    BlockOpen,
    /// `end`, `until`, `elseif`.
    BlockClose,
    /// `else`: closes a block and opens one.
    Else,
    /// `..`.
    Concat,
    /// `^`.
    Power,
    /// Other binary arithmetic operators, which bind tighter than `..`.
    Arithmetic,
    /// `-`, binary or unary depending on what precedes it.
    Minus,
    /// `not`, `#`, and `-` where it is unary.
    Unary,
    /// `.` and `:`, inside an operand.
    Dot,
    /// A name, number, `nil`, `true`, `false`, `...`.
    Operand,
    /// Comparisons, `and`, `or`: binary operators looser than `..`.
    Compare,
    /// `,`, `;`, `=` and keywords other than operators: between expressions.
    Separator,
    /// A string, which after an operand is a call argument (`f 'x'`).
    Call,
    /// A backtick outside strings and comments.
    Backtick,
    /// A long string or comment that is never closed.
    Unfinished(&'static str),
    /// Anything else.
    Other,
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
    token_start: usize,
}

impl<'a> Lexer<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        // A `#!` first line is the shebang, which is not Lua.
        let at = if bytes.starts_with(b"#!") {
            bytes
                .iter()
                .position(|&byte| byte == b'\n')
                .unwrap_or(bytes.len())
        } else {
            0
        };
        Lexer {
            bytes,
            at,
            line: 1,
            line_start: 0,
            token_start: 0,
        }
    }

    /// 1-based line and column (in characters) of the last token.
    fn position(&self) -> (usize, usize) {
        let start = self.line_start.min(self.token_start);
        let text = &self.bytes[start..self.token_start];
        let column = String::from_utf8_lossy(text).chars().count() + 1;
        (self.line, column)
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.at + offset).copied().unwrap_or(0)
    }

    fn advance(&mut self) {
        if self.peek(0) == b'\n' {
            self.line += 1;
            self.line_start = self.at + 1;
        }
        self.at += 1;
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            while self.at < self.bytes.len() && self.peek(0).is_ascii_whitespace() {
                self.advance();
            }
            if self.at >= self.bytes.len() {
                return None;
            }
            if self.peek(0) == b'-' && self.peek(1) == b'-' {
                self.advance();
                self.advance();
                if self.peek(0) == b'[' && self.long_bracket_level().is_some() {
                    self.token_start = self.at;
                    if !self.skip_long_bracket() {
                        return Some(Token::Unfinished("long comment"));
                    }
                } else {
                    while self.at < self.bytes.len() && self.peek(0) != b'\n' {
                        self.advance();
                    }
                }
                continue;
            }
            break;
        }
        self.token_start = self.at;
        let byte = self.peek(0);
        let token = match byte {
            b'(' | b'{' => {
                self.advance();
                Token::Open
            }
            b'[' => {
                if self.long_bracket_level().is_some() {
                    if !self.skip_long_bracket() {
                        return Some(Token::Unfinished("long string"));
                    }
                    Token::Call
                } else {
                    self.advance();
                    Token::Open
                }
            }
            b')' | b']' | b'}' => {
                self.advance();
                Token::Close
            }
            b'\'' | b'"' => {
                self.advance();
                while self.at < self.bytes.len() {
                    match self.peek(0) {
                        b'\\' => {
                            self.advance();
                            // `\` and a line break (`\r\n` too) continue the string.
                            let (first, second) = (self.peek(0), self.peek(1));
                            self.advance();
                            if (first, second) == (b'\r', b'\n')
                                || (first, second) == (b'\n', b'\r')
                            {
                                self.advance();
                            }
                        }
                        // As in Lua, a line break ends an unfinished string.
                        b'\n' | b'\r' => break,
                        quote if quote == byte => {
                            self.advance();
                            break;
                        }
                        _ => self.advance(),
                    }
                }
                Token::Call
            }
            b'.' => {
                if self.peek(1) == b'.' {
                    if self.peek(2) == b'.' {
                        self.at += 3;
                        Token::Operand
                    } else {
                        self.at += 2;
                        Token::Concat
                    }
                } else if self.peek(1).is_ascii_digit() {
                    self.skip_number();
                    Token::Operand
                } else {
                    self.advance();
                    Token::Dot
                }
            }
            b':' => {
                self.advance();
                Token::Dot
            }
            b'^' => {
                self.advance();
                Token::Power
            }
            b'-' => {
                self.advance();
                Token::Minus
            }
            b'#' => {
                self.advance();
                Token::Unary
            }
            b'+' | b'*' | b'/' | b'%' => {
                self.advance();
                Token::Arithmetic
            }
            b'0'..=b'9' => {
                self.skip_number();
                Token::Operand
            }
            byte if byte == b'_' || byte.is_ascii_alphabetic() || byte >= 0x80 => {
                let start = self.at;
                while self.at < self.bytes.len() {
                    let next = self.peek(0);
                    if next == b'_' || next.is_ascii_alphanumeric() || next >= 0x80 {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                match &self.bytes[start..self.at] {
                    b"function" | b"do" | b"then" | b"repeat" => Token::BlockOpen,
                    b"end" | b"until" | b"elseif" => Token::BlockClose,
                    b"else" => Token::Else,
                    b"nil" | b"true" | b"false" => Token::Operand,
                    b"not" => Token::Unary,
                    b"and" | b"or" => Token::Compare,
                    b"break" | b"for" | b"if" | b"in" | b"local" | b"return" | b"while" => {
                        Token::Separator
                    }
                    _ => Token::Operand,
                }
            }
            b'=' | b'~' | b'<' | b'>' => {
                let single = byte == b'=' && self.peek(1) != b'=';
                self.advance();
                if single {
                    Token::Separator
                } else {
                    if self.peek(0) == b'=' {
                        self.advance();
                    }
                    Token::Compare
                }
            }
            b',' | b';' => {
                self.advance();
                Token::Separator
            }
            b'`' => {
                self.advance();
                Token::Backtick
            }
            _ => {
                self.advance();
                Token::Other
            }
        };
        Some(token)
    }

    fn skip_number(&mut self) {
        while self.at < self.bytes.len() {
            let byte = self.peek(0);
            let exponent_sign = (byte == b'+' || byte == b'-')
                && matches!(self.bytes.get(self.at.wrapping_sub(1)), Some(b'e' | b'E'));
            if byte.is_ascii_alphanumeric() || byte == b'.' && self.peek(1) != b'.' || exponent_sign
            {
                self.at += 1;
            } else {
                break;
            }
        }
    }

    /// At `[`: the level of a long bracket `[==[` that opens here, if one does.
    fn long_bracket_level(&self) -> Option<usize> {
        let mut level = 0;
        while self.peek(1 + level) == b'=' {
            level += 1;
        }
        (self.peek(1 + level) == b'[').then_some(level)
    }

    /// Skips a long string or comment; `false` when it is not closed.
    fn skip_long_bracket(&mut self) -> bool {
        let level = self.long_bracket_level().unwrap_or(0);
        for _ in 0..level + 2 {
            self.advance();
        }
        while self.at < self.bytes.len() {
            if self.peek(0) == b']' {
                let mut equals = 0;
                while self.peek(1 + equals) == b'=' {
                    equals += 1;
                }
                if equals == level && self.peek(1 + equals) == b']' {
                    for _ in 0..level + 2 {
                        self.advance();
                    }
                    return true;
                }
            }
            self.advance();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, middle: &str, close: &str, levels: usize) -> String {
        format!("{}{middle}{}", open.repeat(levels), close.repeat(levels))
    }

    #[test]
    fn accepts_what_lua_accepts() {
        // Each of these Redis 7 runs (checked against a real server in tests/tests/corpus.rs).
        for source in [
            format!("return {}", nested("(", "1", ")", 190)),
            nested("do ", "", "end ", 199),
            format!("return 'a'{}", "..'a'".repeat(198)),
            format!("return 1{}", "+1".repeat(5000)),
            format!("return {}1", "- ".repeat(150)),
            format!("return 2{}", "^2".repeat(190)),
            format!("return 'a'{}", "..('a')".repeat(190)),
            format!("return {}1", "not ".repeat(198)),
            format!("return {}1", "- ".repeat(198)),
            format!("return {}'a'", "# ".repeat(198)),
            format!("return 'a'{}", " .. -1".repeat(197)),
            // Binary `-` and unary operators between operands never accumulate.
            format!("return 1{}", " - -1".repeat(5000)),
            format!("return x{}", " and not x".repeat(5000)),
            "local s = '((((((((((' -- ((((((((((\n--[[ ((((( ]] return s".repeat(100),
        ] {
            assert_eq!(
                too_deeply_nested(&source),
                None,
                "{}",
                &source[..60.min(source.len())]
            );
        }
    }

    #[test]
    fn rejects_far_beyond_the_limit() {
        for source in [
            format!("return {}", nested("(", "1", ")", 100_000)),
            nested("do ", "", "end ", 300),
            format!("return 'a'{}", "..'a'".repeat(300)),
            format!("return {}", nested("{", "", "}", 1000)),
            nested("if x then ", "", " end", 250),
            format!("return 'a'{}", "..('a')".repeat(100_000)),
            format!("return 2{}", "^2".repeat(100_000)),
            format!("return {}x", "not ".repeat(100_000)),
            format!("return {}1", "- ".repeat(1_000_000)),
            format!("return {}t", "#".repeat(100_000)),
            format!("return {}1", "-(".repeat(300)),
            format!("return 2{}", "^-2".repeat(300)),
            format!("return {}x", "not - # ".repeat(100)),
        ] {
            let diagnostic = too_deeply_nested(&source).expect("too deep");
            assert!(diagnostic.message.contains("too many syntax levels"));
        }
    }

    #[test]
    fn unary_operators_in_a_row_are_levels() {
        assert_eq!(measure("return not not x").unwrap().levels, 2);
        assert_eq!(measure("return - - - 1").unwrap().levels, 3);
        assert_eq!(measure("return a - b - c").unwrap().levels, 0);
        assert_eq!(measure("return #t - #u").unwrap().levels, 1);
        assert_eq!(
            measure("return f() - 1, t[1] - 1, 'a' - 1").unwrap().levels,
            1
        );
        let diagnostic = measure(&format!("return {}x", "not ".repeat(300))).unwrap_err();
        assert!(diagnostic.message.contains("unary operators"));
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 1,
                column: 8 + 4 * LIMIT
            })
        );
    }

    #[test]
    fn chains_reset_between_statements() {
        let source = "local a = 'x' .. 'y'\n".repeat(1000);
        assert_eq!(too_deeply_nested(&source), None);
        let separate = "x = a .. b y = c .. d ".repeat(300);
        assert_eq!(too_deeply_nested(&separate), None);
    }

    #[test]
    fn measures_levels_and_runs() {
        let nesting = measure("local x = f(a, {b = (1 + 2 + 3 == 4)})\nreturn x").unwrap();
        assert_eq!(nesting.levels, 3);
        assert_eq!(nesting.longest_run, 3);
        assert_eq!(measure("x = a .. b .. c").unwrap().levels, 2);
        assert_eq!(
            measure(&format!("return 1{}", "+1".repeat(500)))
                .unwrap()
                .longest_run,
            500
        );
    }

    #[test]
    fn backticks_outside_strings_are_syntax_errors() {
        // full_moon 3 panics on these (`unreachable!` in its lexer).
        let error = measure("local s = 'a`b' -- `\nreturn s .. `x`").unwrap_err();
        assert_eq!(
            error.location,
            Some(Location {
                line: 2,
                column: 13
            })
        );
        assert!(error.message.contains("unexpected character '`'"));
        assert!(measure("#!lua `x\nreturn '`' .. [[`]] --[==[ ` ]==]").is_ok());
    }

    #[test]
    fn unfinished_long_brackets_are_syntax_errors() {
        // full_moon 3 panics on an unclosed long comment ("current() called past EOF").
        let error = measure("return 1\n--[==[ never closed ]]").unwrap_err();
        assert_eq!(error.location, Some(Location { line: 2, column: 3 }));
        assert!(error.message.contains("unfinished long comment"));
        assert!(
            measure("return [[ open")
                .unwrap_err()
                .message
                .contains("long string")
        );
        assert!(measure("--[[ closed ]] return [=[ ]] ]=]").is_ok());
    }

    #[test]
    fn reports_where_the_limit_is_crossed() {
        let source = format!("local x = 1\nreturn {}", "(".repeat(300));
        let diagnostic = too_deeply_nested(&source).expect("too deep");
        assert_eq!(
            diagnostic.location,
            Some(Location {
                line: 2,
                column: 8 + LIMIT
            })
        );
    }
}
