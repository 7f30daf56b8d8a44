//! The values of Lua string and number literals, as Redis receives them.

use full_moon::tokenizer::{StringLiteralQuoteType, TokenType};

/// The value of a string literal token, or `None` when it is not one (or holds an escape this
/// does not decode, in which case the value is treated as unknown).
pub(crate) fn string_value(token: &TokenType) -> Option<String> {
    let TokenType::StringLiteral {
        literal,
        quote_type,
        ..
    } = token
    else {
        return None;
    };
    let literal: &str = literal;
    match quote_type {
        StringLiteralQuoteType::Brackets => {
            // Lua skips a newline right after the opening bracket.
            let text = literal
                .strip_prefix("\r\n")
                .or_else(|| literal.strip_prefix('\n'))
                .unwrap_or(literal);
            Some(text.to_owned())
        }
        _ => unescape(literal),
    }
}

/// Decodes Lua 5.1 escapes; `None` for one that does not make UTF-8 text.
fn unescape(literal: &str) -> Option<String> {
    if !literal.contains('\\') {
        return Some(literal.to_owned());
    }
    let mut bytes = Vec::with_capacity(literal.len());
    let mut chars = literal.bytes().peekable();
    while let Some(byte) = chars.next() {
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        let escaped = chars.next()?;
        let decoded = match escaped {
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' | b'\n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'0'..=b'9' => {
                let mut value = u32::from(escaped - b'0');
                for _ in 0..2 {
                    match chars.peek() {
                        Some(digit @ b'0'..=b'9') => {
                            value = value * 10 + u32::from(digit - b'0');
                            chars.next();
                        }
                        _ => break,
                    }
                }
                u8::try_from(value).ok()?
            }
            // Lua 5.1 keeps any other escaped character as it is (`\\`, `\"`, `\'`, ...).
            other => other,
        };
        bytes.push(decoded);
    }
    String::from_utf8(bytes).ok()
}

/// The text Lua makes of a number literal when it is passed to Redis (`"%.14g"`), for the
/// literals whose text is certain: whole numbers below 2^53; `None` for others.
pub(crate) fn number_text(literal: &str) -> Option<String> {
    let value = match literal
        .strip_prefix("0x")
        .or_else(|| literal.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as f64,
        None => literal.parse::<f64>().ok()?,
    };
    (value.fract() == 0.0 && value.abs() < 1e14).then(|| format!("{}", value as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_as_in_lua() {
        assert_eq!(unescape(r#"a\tb\\c\'\""#).as_deref(), Some("a\tb\\c'\""));
        assert_eq!(unescape(r"\65\066\0677").as_deref(), Some("ABC7"));
        assert_eq!(unescape(r"\256"), None);
        assert_eq!(unescape(r"trailing\"), None);
    }

    #[test]
    fn numbers_print_as_lua_prints_them() {
        assert_eq!(number_text("10").as_deref(), Some("10"));
        assert_eq!(number_text("1.0").as_deref(), Some("1"));
        assert_eq!(number_text("0x10").as_deref(), Some("16"));
        assert_eq!(number_text("1e3").as_deref(), Some("1000"));
        assert_eq!(number_text("1.5"), None);
    }
}
