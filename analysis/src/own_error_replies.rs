//! Whether a script can word an error reply itself: what decides whether a cluster batch may
//! send its invocations one by one ("in waves") instead of as one `MULTI`/`EXEC` per slot.
//!
//! Sent alone, an invocation refused by the server (`TRYAGAIN ...`, `MOVED ...`) did not run
//! and is sent again; a script that can return an error reply of its own words could return
//! that very text after running, and would then run twice. Inside `MULTI`/`EXEC` the two can
//! be told apart (a refusal comes while queueing, the script's reply from `EXEC`), so a script
//! that may word its own errors keeps that form. Computed once, at compile time.

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
/// name containing `err`, `pcall`, `rawset`, `metatable`, `decode`, `unpack`, `load`,
/// `fenv`, `dofile` or `require`, or `_G`, or an index `[` other than `KEYS[...]` and
/// `ARGV[...]` (a computed key can be `'err'`) counts, as does a source that does not
/// scan (an unclosed string or comment); comments and string contents do not.
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
    // A scan of its own rather than full_moon's lexer: the derive runs it unoptimised on every
    // script, and a byte scan costs a small fraction of the lexer's token building.
    let bytes = source.as_bytes();
    let mut at = 0;
    let mut previous_name: Option<&str> = None;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at += 2;
                at = match long_bracket_level(bytes, at) {
                    Some(level) => match skip_long_bracket(bytes, at, level) {
                        Some(end) => end,
                        None => return true,
                    },
                    None => bytes[at..]
                        .iter()
                        .position(|&byte| byte == b'\n')
                        .map_or(bytes.len(), |line_end| at + line_end),
                };
            }
            b'\'' | b'"' => {
                at = match skip_quoted(bytes, at) {
                    Some(end) => end,
                    None => return true,
                };
                previous_name = None;
            }
            b'[' => {
                // A long string (`[[...]]`) or an index other than `KEYS[` / `ARGV[`.
                if long_bracket_level(bytes, at).is_some()
                    || !matches!(previous_name, Some("KEYS" | "ARGV"))
                {
                    return true;
                }
                previous_name = None;
                at += 1;
            }
            b'0'..=b'9' => {
                // A number, `1e5` and `0x1F` included: no name in it.
                while bytes
                    .get(at)
                    .is_some_and(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.'))
                {
                    at += 1;
                }
                previous_name = None;
            }
            byte if byte.is_ascii_alphabetic() || byte == b'_' => {
                let start = at;
                while bytes
                    .get(at)
                    .is_some_and(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
                {
                    at += 1;
                }
                let name = &source[start..at];
                if name == "_G" || WORDS.iter().any(|word| name.contains(word)) {
                    return true;
                }
                previous_name = Some(name);
            }
            byte if byte.is_ascii_whitespace() => at += 1,
            _ => {
                previous_name = None;
                at += 1;
            }
        }
    }
    false
}

/// The level of the long bracket opening at `at` (`[[` is 0, `[==[` is 2), if one does.
fn long_bracket_level(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let level = bytes[at + 1..]
        .iter()
        .take_while(|&&byte| byte == b'=')
        .count();
    (bytes.get(at + 1 + level) == Some(&b'[')).then_some(level)
}

/// Where the long bracket of `level` opening at `at` ends (after its `]=*]`); `None` if it
/// does not close.
fn skip_long_bracket(bytes: &[u8], at: usize, level: usize) -> Option<usize> {
    let mut close = Vec::with_capacity(level + 2);
    close.push(b']');
    close.extend(std::iter::repeat_n(b'=', level));
    close.push(b']');
    let body = at + level + 2;
    bytes
        .get(body..)?
        .windows(close.len())
        .position(|window| window == close.as_slice())
        .map(|end| body + end + close.len())
}

/// Where the quoted string starting at `at` ends (after its closing quote); `None` if it does
/// not close on its line.
fn skip_quoted(bytes: &[u8], at: usize) -> Option<usize> {
    let quote = bytes[at];
    let mut index = at + 1;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'\\' => index += 2,
            b'\n' => return None,
            byte if byte == quote => return Some(index + 1),
            _ => index += 1,
        }
    }
    None
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
            "--[==[ error_reply, pcall, t[k] ]==]\nreturn redis.call('GET', KEYS[1])",
            "return redis.call('SET', KEYS[1], \"it's \\\"err\\\" [x]\", 'EX', 1e3)",
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
            "local s = [[long]] return s",
            "return 'unclosed",
            "--[[ unclosed comment",
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
