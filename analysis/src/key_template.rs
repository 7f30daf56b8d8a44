//! Key templates: `#[key("{{bank:{bank}}}:acct:{}")]`, in `format!` syntax.
//!
//! A template builds a key from literal text and field values: `{}` is the field's own value,
//! `{name}` another field of the struct, and `{{` / `}}` are literal braces, so a Redis hash tag
//! is written `{{...}}`, exactly as with `format!`.
//!
//! # Which part of the key Redis hashes
//!
//! Redis Cluster hashes the content of the first `{` up to the first `}` after it, when that
//! content is non-empty, and the whole key otherwise ([`hash_tag`](crate::hash_tag)). Applied
//! to a template, on the assumption that **field values contain neither `{` nor `}`**, the
//! literal braces alone decide where the tag is, and [`KeyTemplate::hash_tag`] gives it as a
//! sequence of literal text and field values:
//!
//! - `{{user:{}}}:cart` hashes `user:<own value>`;
//! - `{{shop}}:{}` hashes the literal `shop`, whose slot is known at compile time;
//! - `{}:meta` and `{{}}{}` (an empty tag) hash the whole key.
//!
//! Which values can change the hashed part, given the template's literal tag (the first
//! literal `{` and the next literal `}`, with something between them):
//!
//! - a `{` inside the tag's values is harmless: Redis looks for the first `}` after the first
//!   `{`, and `{{user:{}}}` with `a{b` hashes `user:a{b`, as the template says;
//! - values after the tag never matter: `{{user}}:{}` hashes `user` whatever the value;
//! - a `}` inside the tag's values ends the tag early: `{{user:{}}}` with `a}b` hashes
//!   `user:a`;
//! - a `{` or `}` in a value placed before the tag moves or ends the tag: `{}:{{user}}` with
//!   `a{b}` hashes `b`, and with `a{b` hashes `b:{user` (up to the first `}` after that `{`); so does a brace in
//!   any value of a template without a tag (`{}:meta` with `{x}` hashes `x`);
//! - values that leave the tag's content empty remove the tag: `{{{}}}` with `""` makes `{}`,
//!   and Redis hashes the whole key.
//!
//! Proofs made from templates therefore hold for values without braces that do not empty a
//! tag, and the runtime checks every invocation's actual slots before sending anything.

use std::fmt;

/// One part of a key template.
///
/// ```
/// use redis_script_analysis::{KeyTemplate, TemplatePiece};
///
/// let template = KeyTemplate::parse("{{x}}:{}").unwrap();
/// assert_eq!(template.pieces[0], TemplatePiece::Literal("{x}:".into()));
/// assert_eq!(template.pieces[1], TemplatePiece::OwnValue);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TemplatePiece {
    /// Literal text, braces unescaped.
    Literal(String),
    /// `{}`: the value of the field that carries the template.
    OwnValue,
    /// `{name}`: the value of another field of the struct.
    Field(String),
}

/// A parsed key template.
///
/// ```
/// use redis_script_analysis::KeyTemplate;
///
/// let template = KeyTemplate::parse("{{bank:{bank}}}:acct:{}").unwrap();
/// assert_eq!(template.referenced_fields().collect::<Vec<_>>(), ["bank"]);
/// assert!(template.uses_own_value());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTemplate {
    /// The pieces in order; adjacent literals are merged.
    pub pieces: Vec<TemplatePiece>,
}

/// A template that is not valid `format!`-style syntax.
///
/// ```
/// let error = redis_script_analysis::KeyTemplate::parse("{user").unwrap_err();
/// assert_eq!(error.offset, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset in the template text where the problem starts.
    pub offset: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The hashed part of a key built from a template, under the assumption that values hold no
/// braces (see the [module documentation](crate::key_template)).
///
/// ```
/// use redis_script_analysis::{HashTag, KeyTemplate, TemplatePiece};
///
/// let template = KeyTemplate::parse("{{user:{}}}:cart").unwrap();
/// assert_eq!(
///     template.hash_tag("owner"),
///     HashTag::Tag(vec![
///         TemplatePiece::Literal("user:".into()),
///         TemplatePiece::Field("owner".into()),
///     ])
/// );
/// assert_eq!(KeyTemplate::parse("{}:cart").unwrap().hash_tag("owner"), HashTag::WholeKey);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HashTag {
    /// A hash tag made of these pieces; `{}` appears as the carrying field's name, so that tags
    /// of different keys compare equal exactly when they are the same expression.
    Tag(Vec<TemplatePiece>),
    /// No hash tag: Redis hashes the whole key.
    WholeKey,
}

impl HashTag {
    /// The tag's text when it is made of literals only, so its slot is known at compile time.
    ///
    /// ```
    /// use redis_script_analysis::KeyTemplate;
    ///
    /// let tag = KeyTemplate::parse("{{shop}}:{}").unwrap().hash_tag("item");
    /// assert_eq!(tag.literal(), Some("shop"));
    /// ```
    pub fn literal(&self) -> Option<&str> {
        match self {
            HashTag::Tag(pieces) => match pieces.as_slice() {
                [TemplatePiece::Literal(text)] => Some(text),
                _ => None,
            },
            HashTag::WholeKey => None,
        }
    }
}

impl KeyTemplate {
    /// Parses `format!`-style template text: `{}`, `{field_name}`, `{{`, `}}`, and literal text.
    /// Formatting options (`{:?}`, `{0}`, `{name:>5}`) are not accepted: a key is its values'
    /// `Display` text.
    ///
    /// ```
    /// use redis_script_analysis::KeyTemplate;
    ///
    /// assert!(KeyTemplate::parse("{{a}}:{}:{other}").is_ok());
    /// assert!(KeyTemplate::parse("{:?}").is_err());
    /// assert!(KeyTemplate::parse("a}b").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, next)| next) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, next)| next) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        offset,
                        message: "unmatched `}` in key template; write `}}` for a literal `}`"
                            .to_owned(),
                    });
                }
                '{' => {
                    let start = offset + 1;
                    let Some(end) = text[start..].find('}').map(|length| start + length) else {
                        return Err(TemplateError {
                            offset,
                            message: "unclosed `{` in key template; write `{{` for a literal \
                                      `{` (a Redis hash tag is `{{tag}}`)"
                                .to_owned(),
                        });
                    };
                    let name = &text[start..end];
                    let piece = if name.is_empty() {
                        TemplatePiece::OwnValue
                    } else if is_identifier(name) {
                        TemplatePiece::Field(name.to_owned())
                    } else {
                        return Err(TemplatePiece::invalid_placeholder(offset, name));
                    };
                    if !literal.is_empty() {
                        pieces.push(TemplatePiece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(piece);
                    while chars.peek().is_some_and(|&(at, _)| at <= end) {
                        chars.next();
                    }
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            pieces.push(TemplatePiece::Literal(literal));
        }
        Ok(KeyTemplate { pieces })
    }

    /// The other fields this template reads (`{name}`), in order, each once.
    pub fn referenced_fields(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        self.pieces.iter().filter_map(move |piece| match piece {
            TemplatePiece::Field(name) if !seen.contains(&name.as_str()) => {
                seen.push(name);
                Some(name.as_str())
            }
            _ => None,
        })
    }

    /// Whether the template contains `{}`.
    pub fn uses_own_value(&self) -> bool {
        self.pieces.contains(&TemplatePiece::OwnValue)
    }

    /// The hashed part of the keys this template builds, with `{}` named `own_field`.
    pub fn hash_tag(&self, own_field: &str) -> HashTag {
        let mut opened = false;
        let mut content: Vec<TemplatePiece> = Vec::new();
        for piece in &self.pieces {
            let TemplatePiece::Literal(text) = piece else {
                if opened {
                    content.push(match piece {
                        TemplatePiece::OwnValue => TemplatePiece::Field(own_field.to_owned()),
                        other => other.clone(),
                    });
                }
                continue;
            };
            let mut rest = text.as_str();
            if !opened {
                let Some(open) = rest.find('{') else { continue };
                opened = true;
                rest = &rest[open + 1..];
            }
            if let Some(close) = rest.find('}') {
                push_literal(&mut content, &rest[..close]);
                return if content.is_empty() {
                    HashTag::WholeKey
                } else {
                    HashTag::Tag(content)
                };
            }
            push_literal(&mut content, rest);
        }
        HashTag::WholeKey
    }

    /// Whether every key the template builds starts with its hash tag (`{{...}}` first), so
    /// that a key made by appending to it, or by prepending text without braces, hashes to the
    /// same slot.
    ///
    /// ```
    /// use redis_script_analysis::KeyTemplate;
    ///
    /// assert!(KeyTemplate::parse("{{user:{}}}:cart").unwrap().starts_with_hash_tag());
    /// assert!(!KeyTemplate::parse("cart:{{{}}}").unwrap().starts_with_hash_tag());
    /// ```
    pub fn starts_with_hash_tag(&self) -> bool {
        matches!(self.pieces.first(), Some(TemplatePiece::Literal(text)) if text.starts_with('{'))
            && matches!(self.hash_tag(""), HashTag::Tag(_))
    }
}

impl TemplatePiece {
    fn invalid_placeholder(offset: usize, name: &str) -> TemplateError {
        TemplateError {
            offset,
            message: format!(
                "`{{{name}}}` is not a key template placeholder; use `{{}}` for this field's value \
                 or `{{field_name}}` for another field's (formatting options are not supported), \
                 and `{{{{` / `}}}}` for literal braces"
            ),
        }
    }
}

fn push_literal(content: &mut Vec<TemplatePiece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(TemplatePiece::Literal(last)) = content.last_mut() {
        last.push_str(text);
    } else {
        content.push(TemplatePiece::Literal(text.to_owned()));
    }
}

fn is_identifier(name: &str) -> bool {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use TemplatePiece::{Field, Literal, OwnValue};

    fn tag(template: &str) -> HashTag {
        KeyTemplate::parse(template).unwrap().hash_tag("me")
    }

    fn lit(text: &str) -> TemplatePiece {
        Literal(text.to_owned())
    }

    #[test]
    fn parses_pieces() {
        let template = KeyTemplate::parse("{{bank:{bank}}}:acct:{}").unwrap();
        assert_eq!(
            template.pieces,
            vec![
                lit("{bank:"),
                Field("bank".into()),
                lit("}:acct:"),
                OwnValue
            ]
        );
    }

    #[test]
    fn rejects_bad_syntax_with_offsets() {
        assert_eq!(KeyTemplate::parse("ab}").unwrap_err().offset, 2);
        assert_eq!(KeyTemplate::parse("ab{cd").unwrap_err().offset, 2);
        assert_eq!(KeyTemplate::parse("x{0}").unwrap_err().offset, 1);
        assert!(KeyTemplate::parse("{name:?}").is_err());
    }

    #[test]
    fn tags_follow_the_redis_rule() {
        assert_eq!(tag("{{a}}:{}"), HashTag::Tag(vec![lit("a")]));
        assert_eq!(tag("{{{}}}"), HashTag::Tag(vec![Field("me".into())]));
        assert_eq!(
            tag("{}:{{x{other}y}}"),
            HashTag::Tag(vec![lit("x"), Field("other".into()), lit("y")])
        );
        assert_eq!(
            tag("{{}}{}"),
            HashTag::WholeKey,
            "an empty tag hashes the whole key"
        );
        assert_eq!(
            tag("{{a{}"),
            HashTag::WholeKey,
            "an unclosed tag hashes the whole key"
        );
        assert_eq!(
            tag("}}{{a}}"),
            HashTag::Tag(vec![lit("a")]),
            "a closing brace before the opening one does not count"
        );
        assert_eq!(
            tag("{{a}}{{b}}"),
            HashTag::Tag(vec![lit("a")]),
            "only the first tag counts"
        );
        assert_eq!(tag("{}"), HashTag::WholeKey);
    }

    #[test]
    fn literal_tags_agree_with_hash_tag_on_rendered_keys() {
        for template in ["{{a}}:{}", "x{{b}}y{}", "{{}}{}", "{}{{c}}", "{{d{}}}"] {
            let parsed = KeyTemplate::parse(template).unwrap();
            let rendered = parsed
                .pieces
                .iter()
                .map(|piece| match piece {
                    Literal(text) => text.as_str(),
                    _ => "v",
                })
                .collect::<String>();
            let actual = crate::hash_tag(rendered.as_bytes());
            match parsed.hash_tag("me") {
                HashTag::WholeKey => assert_eq!(actual, rendered.as_bytes(), "{template}"),
                HashTag::Tag(pieces) => {
                    let expected: String = pieces
                        .iter()
                        .map(|piece| match piece {
                            Literal(text) => text.as_str(),
                            _ => "v",
                        })
                        .collect();
                    assert_eq!(actual, expected.as_bytes(), "{template}");
                }
            }
        }
    }
}
