//! Whether a script can word an error reply itself: what decides whether a cluster batch may
//! send its invocations one by one ("in waves") instead of as one `MULTI`/`EXEC` per slot.
//!
//! Sent alone, an invocation refused by the server (`TRYAGAIN ...`, `MOVED ...`) did not run
//! and is sent again; a script that can return an error reply of its own words could return
//! that very text after running, and would then run twice. Inside `MULTI`/`EXEC` the two can
//! be told apart (a refusal comes while queueing, the script's reply from `EXEC`), so a script
//! that may word its own errors keeps that form. Computed once, at compile time.

use full_moon::LuaVersion;
use full_moon::tokenizer::{Lexer, LexerResult, Symbol, TokenType};

/// Names whose use can give a script's reply a table with an `err` field, the only way Redis
/// turns a script's reply into an error reply without appending the script's own position:
/// `redis.error_reply` and `{err = ...}` (identifiers containing `err`), an error table from
/// `redis.pcall`, fields set behind the constructor's back (`rawset`, metatables) or decoded
/// and loaded data.
const WORDS: [&str; 10] = [
    "err",
    "pcall",
    "rawset",
    "metatable",
    "decode",
    "unpack",
    "load",
    "fenv",
    "dofile",
    "require",
];

/// Whether `source` may reply an error worded by the script itself. Conservative: any
/// identifier containing `err`, `pcall`, `rawset`, `metatable`, `decode`, `unpack`, `load`,
/// `fenv`, `dofile` or `require`, or `_G`, or an index `[` other than `KEYS[...]` and
/// `ARGV[...]` (a computed key can be `'err'`) counts, as does a source that does not
/// tokenize; comments and string contents do not.
///
/// ```
/// use redis_script_analysis::may_reply_own_error;
///
/// assert!(!may_reply_own_error("-- no error_reply here\nreturn redis.call('INCR', KEYS[1])"));
/// assert!(may_reply_own_error("return redis.error_reply('TRYAGAIN later')"));
/// assert!(may_reply_own_error("return redis.pcall('GET', KEYS[1])"));
/// assert!(may_reply_own_error("local t = {} t[ARGV[1]] = 1 return t"));
/// ```
pub fn may_reply_own_error(source: &str) -> bool {
    let tokens = match Lexer::new(source, LuaVersion::lua51()).collect() {
        LexerResult::Ok(tokens) => tokens,
        LexerResult::Recovered(..) | LexerResult::Fatal(_) => return true,
    };
    let mut previous_name: Option<&str> = None;
    for token in &tokens {
        match token.token_type() {
            TokenType::Identifier { identifier } => {
                let name = identifier.as_str();
                if name == "_G" || WORDS.iter().any(|word| name.contains(word)) {
                    return true;
                }
                previous_name = Some(name);
            }
            TokenType::Whitespace { .. }
            | TokenType::SingleLineComment { .. }
            | TokenType::MultiLineComment { .. }
            | TokenType::Shebang { .. } => {}
            TokenType::Symbol {
                symbol: Symbol::LeftBracket,
            } => {
                if !matches!(previous_name, Some("KEYS" | "ARGV")) {
                    return true;
                }
                previous_name = None;
            }
            _ => previous_name = None,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::may_reply_own_error;

    #[test]
    fn plain_scripts_cannot_word_their_errors() {
        for plain in [
            "return redis.call('INCR', KEYS[1])",
            "-- see error_reply and pcall in the docs\nlocal n = redis.call('INCRBY', KEYS[1], ARGV[1])\nreturn n",
            "redis.call('SET', KEYS[1], 'error: none [really]')\nreturn 'OK'",
            "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
            "local v = redis.call('HGET', KEYS[1], ARGV[1]) if not v then return 0 end return tonumber(v)",
            "local H = {}\nH.twice = function(v) return v * 2 end\nreturn H.twice(1)",
        ] {
            assert!(!may_reply_own_error(plain), "{plain}");
        }
    }

    #[test]
    fn anything_that_can_build_an_err_table_counts() {
        for own in [
            "return redis.error_reply('MOVED 1 127.0.0.1:7000')",
            "return {err = 'TRYAGAIN Multiple keys request during rehashing of slot'}",
            "return redis.pcall('GET', KEYS[1])",
            "local t = {} t['e' .. 'rr'] = 'x' return t",
            "return {[ARGV[1]] = ARGV[2]}",
            "local t = {}\nt.e, t[ARGV[1]] = 1, ARGV[2]\nreturn t",
            "local t = {} rawset(t, 'e' .. 'rr', 'x') return t",
            "return setmetatable({}, {__index = function() return 'x' end})",
            "return cjson.decode(ARGV[1])",
            "return cmsgpack.unpack(ARGV[1])",
            "return loadstring(ARGV[1])()",
            "return _G['redis']",
            "return 'unterminated",
        ] {
            assert!(may_reply_own_error(own), "{own}");
        }
    }
}
