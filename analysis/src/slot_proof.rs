//! The compile-time proof that a script's keys share one Redis Cluster hash slot.
//!
//! A Redis Cluster runs a script on the node that owns its keys, and refuses outright
//! (`CROSSSLOT Keys in request don't hash to the same slot`) a script whose declared `KEYS` hash
//! to different slots. [`check_key_slots`] proves, from the struct's [`Declaration`] alone, that
//! this cannot happen, or says why it cannot be proven.
//!
//! # The rule
//!
//! The proof applies to a script that sends **two or more keys** (a variadic key counts as two
//! or more, whatever else there is), unless it is declared never to run on a cluster:
//! `#!lua flags=no-cluster` in the Lua file, or `#[redis_script(standalone_only)]` on the struct
//! (the same promise for scripts that must also run on Redis 6, where a `#!` line is a syntax
//! error).
//!
//! Each key's hash tag is worked out from its template with [`KeyTemplate::hash_tag`](crate::KeyTemplate::hash_tag), which
//! applies Redis's rule (the first `{`, the first `}` after it, non-empty content in between;
//! otherwise the whole key) to the template's literal braces. Then:
//!
//! - keys whose tags are **the same expression** (the same literal text and the same fields in
//!   the same order; `{}` counts as the name of the field that carries the template) share a
//!   slot whatever the values;
//! - keys whose tags are **literal text** are hashed now, with [`hash_slot`]: equal slots are
//!   proven co-located, different slots are an error naming both keys and both slots;
//! - anything else cannot be proven and is an error: a plain `#[key]` (its whole value is
//!   hashed), a template with no hash tag or an empty one (`{}:x`, `{{}}{}`: the whole key is
//!   hashed), tags that are different expressions (`{{user:{}}}` on two keys is the value of
//!   each), a literal tag next to one made of values, and a variadic key whose tag depends on the
//!   entry (`{}` inside the tag).
//!
//! The proof assumes, as [`KeyTemplate::hash_tag`](crate::KeyTemplate::hash_tag) does, that field values contain neither `{`
//! nor `}` and do not leave a tag empty (`{{{}}}` with the value `""` renders `{}`, which hashes
//! the whole key). A value that breaks the assumption moves or removes the tag, so the runtime
//! computes every invocation's slots again before sending anything, and refuses a cross-slot
//! invocation without network I/O.
//!
//! # What `allow-cross-slot-keys` changes: nothing here
//!
//! Checked against Redis 7.0.15 in cluster mode, `EVAL` sent to the primary that owns the
//! first key (the error replies start as shown, then name the script and line: `... script:
//! <sha1>, on @user_script:1.`):
//!
//! | The script                                              | no `#!` line | `#!lua`      | `#!lua flags=allow-cross-slot-keys` |
//! |---------------------------------------------------------|--------------|--------------|------------------|
//! | declares keys of two slots of this node                 | `CROSSSLOT`  | `CROSSSLOT`  | `CROSSSLOT`      |
//! | declares keys of two nodes                              | `CROSSSLOT`  | `CROSSSLOT`  | `CROSSSLOT`      |
//! | declares one key, touches a key of another slot of this node | runs    | other slot   | runs             |
//! | declares one key, touches a key of another node         | non local    | non local    | non local        |
//! | declares one key, one call with keys of two slots of this node (`MSET k1 1 k2 2`) | non local | non local | non local |
//! | declares no key, touches a key of this node             | runs         | runs         | runs             |
//! | declares no key, touches keys of two slots of this node | runs         | other slot   | runs             |
//! | declares no key, touches a key of another node          | non local    | non local    | non local        |
//!
//! - `CROSSSLOT` is `CROSSSLOT Keys in request don't hash to the same slot`, sent before the
//!   script runs (by `EVALSHA` too, before the script is even looked up);
//! - "other slot" is `ERR Script attempted to access keys that do not hash to the same slot`:
//!   with a `#!` line, the first key a script touches fixes its slot (the declared keys', or
//!   for a script without keys the first one it touches);
//! - "non local" is `ERR Script attempted to access a non local key in a cluster node`, which
//!   is also what a single command with keys of two slots gets inside a script, even when both
//!   slots are on this node (outside a script that command would get `CROSSSLOT`);
//! - a script without a `#!` line is in compatibility mode: like the flag, it may touch other
//!   slots of the same node.
//!
//! So the flag only lets a script touch, one command at a time, keys of other slots **of the
//! node it runs on**; it relaxes neither the declared keys nor a single command's keys.
//! So the proof, which is about the declared keys, and the runtime guard apply to
//! `allow-cross-slot-keys` scripts exactly as to the others.

use crate::{
    Blame, Declaration, Diagnostic, Field, HashTag, Lint, ShebangFlags, TemplatePiece, hash_slot,
    hash_tag,
};

/// Checks that the declared keys of a script provably share one hash slot; see the
/// [module documentation](crate::slot_proof) for the rule. Returns one diagnostic per key at fault, blamed
/// on that key ([`Blame::Key`]), each explaining `CROSSSLOT` and how to fix it.
///
/// ```
/// use redis_script_analysis::{check_key_slots, Declaration, Field, KeyTemplate, ShebangFlags};
///
/// let template = KeyTemplate::parse("{{bank:{bank}}}:acct:{}").unwrap();
/// let mut transfer = Declaration {
///     name: "Transfer".into(),
///     keys: vec![
///         Field::single("from").with_template(template.clone()),
///         Field::single("to").with_template(template),
///     ],
///     args: vec![],
///     standalone_only: false,
///     extra_commands: vec![],
///     allow: vec![],
///     returns: Default::default(),
/// };
/// assert!(check_key_slots(&transfer, ShebangFlags::default()).is_empty());
///
/// // A plain #[key] is hashed whole: nothing proves it shares the other key's slot.
/// transfer.keys[1] = Field::single("to");
/// let diagnostics = check_key_slots(&transfer, ShebangFlags::default());
/// assert_eq!(diagnostics.len(), 1);
/// assert!(diagnostics[0].message.contains("CROSSSLOT"));
///
/// // ... unless the script never runs on a cluster.
/// transfer.standalone_only = true;
/// assert!(check_key_slots(&transfer, ShebangFlags::default()).is_empty());
/// ```
pub fn check_key_slots(declaration: &Declaration, flags: ShebangFlags) -> Vec<Diagnostic> {
    if declaration.standalone_only || flags.no_cluster {
        return Vec::new();
    }
    let diagnostics = check_declared_keys(declaration, flags);
    if !diagnostics.is_empty() {
        return diagnostics;
    }
    check_key_prefixes(declaration, flags)
}

/// `#[arg("...")]` templates declare what an argument carries, typically a key prefix the
/// script builds keys from (`ARGV[1] .. id`); each must be proven to carry the declared keys'
/// hash tag, so that those keys share their slot.
fn check_key_prefixes(declaration: &Declaration, flags: ShebangFlags) -> Vec<Diagnostic> {
    let Some(reference) = declaration.keys.first() else {
        return Vec::new(); // keys built on the argument are reported where they are used
    };
    let reference_class = Class::of(reference);
    let opt_out = opt_out_help(flags);
    let mut diagnostics = Vec::new();
    for (index, field) in declaration.args.iter().enumerate() {
        if field.template.is_none() || field.variadic {
            continue;
        }
        let class = Class::of(field);
        if class.same_slot_as(&reference_class) {
            continue;
        }
        let both_literal = matches!(
            (&class, &reference_class),
            (Class::Literal { .. }, Class::Literal { .. })
        );
        let why = match (&class, &reference_class) {
            (Class::Unprovable(reason), _) => reason.clone(),
            (_, Class::Unprovable(reason)) => reason.clone(),
            _ => format!(
                "its hash tag `{}` is not the same expression as `{}`'s `{}`",
                class.describe(),
                reference.name,
                reference_class.describe()
            ),
        };
        let example = match &reference_class {
            Class::Unprovable(_) => "{{tag}}:{}".to_owned(),
            other => format!("{}:{{}}", other.as_template()),
        };
        diagnostics.push(Diagnostic {
            lint: if both_literal {
                Lint::KeysInDifferentSlots
            } else {
                Lint::UnprovenKeySlots
            },
            origin: None,
            location: None,
            message: format!(
                "the template of #[arg] `{}` declares a key prefix, but nothing proves that it \
                 is in the slot of the declared key `{}`: {why}; keys the script builds on it \
                 may be in another slot, which a cluster refuses",
                field.name, reference.name
            ),
            help: format!(
                "give `{}` and the keys the same hash tag, e.g. #[arg(\"{example}\")]; {opt_out}",
                field.name
            ),
            blame: Blame::Arg(index),
        });
    }
    diagnostics
}

/// The declared keys' part of [`check_key_slots`].
fn check_declared_keys(declaration: &Declaration, flags: ShebangFlags) -> Vec<Diagnostic> {
    if !sends_several_keys(&declaration.keys) {
        return Vec::new();
    }
    let classes: Vec<Class> = declaration.keys.iter().map(Class::of).collect();
    let mut diagnostics = Vec::new();
    let opt_out = opt_out_help(flags);

    // Keys whose co-location cannot be proven at all, each on its own; the ways out are spelled
    // out once, on the first of them.
    let mut unprovable = false;
    for (index, (field, class)) in declaration.keys.iter().zip(&classes).enumerate() {
        let Class::Unprovable(reason) = class else {
            continue;
        };
        let help = if unprovable {
            format!(
                "give `{}` the same hash tag as the other keys (the first of these errors lists \
                 the ways to fix it)",
                field.name
            )
        } else {
            let suggestion = suggest_template(declaration, &classes, field);
            format!(
                "give every key the same hash tag (Redis hashes only the text between the first \
                 `{{` and the next `}}`), e.g. {suggestion}; {opt_out}"
            )
        };
        unprovable = true;
        diagnostics.push(Diagnostic {
            lint: Lint::UnprovenKeySlots,
            origin: None,
            location: None,
            message: format!(
                "`{}` sends {}, but nothing proves that they share a Redis Cluster hash slot: \
                 {reason}; a cluster refuses a script whose keys are in different slots \
                 (CROSSSLOT)",
                declaration.name,
                count_keys(&declaration.keys),
            ),
            help,
            blame: Blame::Key(index),
        });
    }
    if unprovable {
        return diagnostics;
    }

    // Every key has a tag: group them, and blame the keys outside the largest group.
    let mut groups: Vec<(&Class, Vec<usize>)> = Vec::new();
    for (index, class) in classes.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|(other, _)| class.same_slot_as(other))
        {
            Some((_, members)) => members.push(index),
            None => groups.push((class, vec![index])),
        }
    }
    let Some(reference) = groups
        .iter()
        .enumerate()
        .max_by_key(|(position, (_, members))| (members.len(), std::cmp::Reverse(*position)))
        .map(|(_, (class, members))| (*class, members[0]))
    else {
        return diagnostics;
    };
    let (reference_class, reference_index) = reference;
    let reference_field = &declaration.keys[reference_index];
    for (index, class) in classes.iter().enumerate() {
        if class.same_slot_as(reference_class) {
            continue;
        }
        let field = &declaration.keys[index];
        let message = match (class, reference_class) {
            (
                Class::Literal { text, slot },
                Class::Literal {
                    text: other_text,
                    slot: other_slot,
                },
            ) => {
                format!(
                    "`{}` and `{}` are in different Redis Cluster hash slots: `{}`'s hash tag \
                     `{{{text}}}` is slot {slot} and `{}`'s `{{{other_text}}}` is slot \
                     {other_slot}, so a cluster refuses the script (CROSSSLOT)",
                    field.name, reference_field.name, field.name, reference_field.name,
                )
            }
            _ => format!(
                "`{}`'s hash tag `{}` is not the same expression as `{}`'s `{}`, so nothing \
                 proves that they share a Redis Cluster hash slot; a cluster refuses a script \
                 whose keys are in different slots (CROSSSLOT)",
                field.name,
                class.describe(),
                reference_field.name,
                reference_class.describe(),
            ),
        };
        diagnostics.push(Diagnostic {
lint: if matches!((class, reference_class), (Class::Literal { .. }, Class::Literal { .. })) { Lint::KeysInDifferentSlots } else { Lint::UnprovenKeySlots },
origin: None,
            location: None,
            message,
            help: format!(
                "use `{}`'s hash tag in `{}`'s template too, e.g. `#[key(\"{}:{}:{{}}\")]`; {opt_out}",
                reference_field.name,
                field.name,
                reference_class.as_template(),
                field.name,
            ),
            blame: Blame::Key(index),
        });
    }
    diagnostics
}

/// Whether invocations need the runtime slot guard. `false` when no value can break the
/// proof: the script opts out of clusters, sends fewer than two keys, or every key's template
/// starts with a literal hash tag (`{{archive}}:{}`: the first `{`, the first `}` after it and
/// non-empty text between them all come before any value), every tag in the same slot.
///
/// ```
/// use redis_script_analysis::slot_proof::needs_runtime_guard;
/// use redis_script_analysis::{Declaration, Field, KeyTemplate, ShebangFlags};
///
/// let key = |name: &str, template: &str| {
///     Field::single(name).with_template(KeyTemplate::parse(template).unwrap())
/// };
/// let mut archive = Declaration {
///     name: "Archive".into(),
///     keys: vec![key("from", "{{archive}}:{}"), key("to", "{{archive}}:{}:done")],
///     ..Declaration::default()
/// };
/// assert!(!needs_runtime_guard(&archive, ShebangFlags::default()));
///
/// // `{bank}` is a value: `x}y` would end the tag early.
/// archive.keys[1] = key("to", "{{bank:{bank}}}:{}");
/// assert!(needs_runtime_guard(&archive, ShebangFlags::default()));
/// ```
pub fn needs_runtime_guard(declaration: &Declaration, flags: ShebangFlags) -> bool {
    let prefixes = declaration.args.iter().filter(|field| {
        field.template.is_some() && !field.variadic && !declaration.keys.is_empty()
    });
    let several = sends_several_keys(&declaration.keys) || prefixes.clone().next().is_some();
    if declaration.standalone_only || flags.no_cluster || !several {
        return false;
    }
    let mut slots = declaration.keys.iter().chain(prefixes).map(fixed_tag_slot);
    let Some(Some(first)) = slots.next() else {
        return true;
    };
    !slots.all(|slot| slot == Some(first))
}

/// The slot of a key whose hash tag lies wholly in the template's leading literal text. That
/// text starts every rendered key, so Redis's first `{` and the first `}` after it are found
/// there whatever the values that follow.
fn fixed_tag_slot(field: &Field) -> Option<u16> {
    let Some(TemplatePiece::Literal(prefix)) = field.template.as_ref()?.pieces.first() else {
        return None;
    };
    // `hash_tag` gives back the whole text when it holds no complete, non-empty tag.
    let tag = hash_tag(prefix.as_bytes());
    (tag.len() < prefix.len()).then(|| hash_slot(tag))
}

/// Two or more keys, counting a variadic key as two or more.
fn sends_several_keys(keys: &[Field]) -> bool {
    keys.iter().any(|field| field.variadic) || keys.len() >= 2
}

fn count_keys(keys: &[Field]) -> String {
    if keys.iter().any(|field| field.variadic) {
        format!("{} or more keys", keys.len().max(2))
    } else {
        format!("{} keys", keys.len())
    }
}

/// What is known of a key's hash slot.
enum Class {
    /// A literal tag, hashed at compile time.
    Literal { text: String, slot: u16 },
    /// A tag made of values: equal expressions share a slot.
    Expression(Vec<TemplatePiece>),
    /// Nothing can be said; the reason, phrased to follow "but".
    Unprovable(String),
}

impl Class {
    fn of(field: &Field) -> Class {
        let Some(template) = &field.template else {
            let what = if field.variadic {
                "each entry of the variadic"
            } else {
                "the whole value of the plain"
            };
            return Class::Unprovable(format!(
                "{what} #[key] `{}` is hashed (it has no key template with a hash tag)",
                field.name
            ));
        };
        match template.hash_tag(&field.name) {
            HashTag::WholeKey => Class::Unprovable(format!(
                "the template of `{}` has no hash tag (or an empty one): Redis hashes the whole \
                 key",
                field.name
            )),
            HashTag::Tag(pieces) => {
                if let [TemplatePiece::Literal(text)] = pieces.as_slice() {
                    return Class::Literal {
                        slot: hash_slot(text.as_bytes()),
                        text: text.clone(),
                    };
                }
                let own = TemplatePiece::Field(field.name.clone());
                if field.variadic && pieces.contains(&own) {
                    return Class::Unprovable(format!(
                        "the hash tag of variadic `{}` contains `{{}}`: each entry is hashed by \
                         its own value",
                        field.name
                    ));
                }
                Class::Expression(pieces)
            }
        }
    }

    fn same_slot_as(&self, other: &Class) -> bool {
        match (self, other) {
            (Class::Literal { slot, .. }, Class::Literal { slot: other, .. }) => slot == other,
            (Class::Expression(pieces), Class::Expression(other)) => pieces == other,
            _ => false,
        }
    }

    /// The tag for messages, braces included: `{bank:{bank}}` is the literal `bank:` followed
    /// by the value of the field `bank`.
    fn describe(&self) -> String {
        let text: String = self
            .pieces()
            .iter()
            .map(|piece| match piece {
                TemplatePiece::Literal(text) => text.clone(),
                TemplatePiece::Field(name) => format!("{{{name}}}"),
                TemplatePiece::OwnValue => "{}".to_owned(),
            })
            .collect();
        format!("{{{text}}}")
    }

    /// The tag as key template text: `{{bank:{bank}}}`.
    fn as_template(&self) -> String {
        let text: String = self
            .pieces()
            .iter()
            .map(|piece| match piece {
                TemplatePiece::Literal(text) => text.replace('{', "{{").replace('}', "}}"),
                TemplatePiece::Field(name) => format!("{{{name}}}"),
                TemplatePiece::OwnValue => "{}".to_owned(),
            })
            .collect();
        format!("{{{{{text}}}}}")
    }

    fn pieces(&self) -> Vec<TemplatePiece> {
        match self {
            Class::Literal { text, .. } => vec![TemplatePiece::Literal(text.clone())],
            Class::Expression(pieces) => pieces.clone(),
            Class::Unprovable(_) => Vec::new(),
        }
    }
}

/// A concrete `#[key("...")]` for `field`: the hash tag of another key if one has a tag, else
/// a new template parameter shared by every key.
fn suggest_template(declaration: &Declaration, classes: &[Class], field: &Field) -> String {
    if let Some((other, class)) =
        declaration.keys.iter().zip(classes).find(|(other, class)| {
            other.name != field.name && !matches!(class, Class::Unprovable(_))
        })
    {
        return format!(
            "`#[key(\"{}:{}:{{}}\")] {}`, the hash tag `{}` uses",
            class.as_template(),
            field.name,
            field.name,
            other.name
        );
    }
    let taken = |name: &str| {
        declaration
            .keys
            .iter()
            .chain(&declaration.args)
            .any(|field| field.name == name)
    };
    let parameter = ["shard", "group", "tag", "hash_tag"]
        .into_iter()
        .find(|name| !taken(name))
        .unwrap_or("shard_name");
    let keys = declaration
        .keys
        .iter()
        .map(|key| {
            format!(
                "`#[key(\"{{{{{{{parameter}}}}}}}:{}:{{}}\")] {}`",
                key.name, key.name
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "a field `{parameter}` that names the keys' group (a field with neither #[key] nor \
         #[arg] only fills templates) and {keys}"
    )
}

fn opt_out_help(flags: ShebangFlags) -> String {
    let mut help = "or, for a script that never runs on a Redis Cluster, add `#!lua \
                    flags=no-cluster` as the Lua file's first line, or \
                    `#[redis_script(standalone_only)]` on the struct if the script must also run \
                    on Redis 6 (where a `#!` line is a syntax error)"
        .to_owned();
    if flags.allow_cross_slot_keys {
        help.push_str(
            "; `allow-cross-slot-keys` does not help: it lets the script touch undeclared keys \
             of other slots on the same node, but Redis still refuses declared KEYS of \
             different slots with CROSSSLOT",
        );
    }
    help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefixes_must_carry_the_keys_tag() {
        let queue = |prefix: &str| Declaration {
            name: "Queue".into(),
            keys: vec![key("wait", "{{q:{queue}}}:{}")],
            args: vec![key("prefix", prefix), Field::single("id")],
            ..Declaration::default()
        };
        let flags = ShebangFlags::default();
        assert_eq!(check_key_slots(&queue("{{q:{queue}}}:{}"), flags), vec![]);
        assert!(needs_runtime_guard(&queue("{{q:{queue}}}:{}"), flags));

        let other = check_key_slots(&queue("{{r:{queue}}}:{}"), flags);
        assert_eq!(other.len(), 1, "{other:?}");
        assert_eq!(other[0].blame, Blame::Arg(0));
        assert_eq!(other[0].lint, Lint::UnprovenKeySlots);
        assert!(
            other[0].message.contains("not the same expression"),
            "{}",
            other[0].message
        );

        let untagged = check_key_slots(&queue("{}:"), flags);
        assert_eq!(untagged[0].blame, Blame::Arg(0));
        assert!(
            untagged[0].message.contains("has no hash tag"),
            "{}",
            untagged[0].message
        );

        // Literal tags in different slots: certain, not merely unproven.
        let literal = Declaration {
            keys: vec![key("wait", "{{a}}:{}")],
            args: vec![key("prefix", "{{b}}:{}")],
            ..queue("")
        };
        assert_eq!(
            check_key_slots(&literal, flags)[0].lint,
            Lint::KeysInDifferentSlots
        );
        // The same literal tag fixes the slot: no guard needed.
        let fixed = Declaration {
            keys: vec![key("wait", "{{a}}:{}")],
            args: vec![key("prefix", "{{a}}:{}")],
            ..queue("")
        };
        assert_eq!(check_key_slots(&fixed, flags), vec![]);
        assert!(!needs_runtime_guard(&fixed, flags));
    }
    use crate::KeyTemplate;

    fn key(name: &str, template: &str) -> Field {
        Field::single(name).with_template(KeyTemplate::parse(template).unwrap())
    }

    fn declaration(keys: Vec<Field>) -> Declaration {
        Declaration {
            name: "S".into(),
            keys,
            args: vec![Field::single("amount")],
            standalone_only: false,
            extra_commands: vec![],
            allow: vec![],
            returns: Default::default(),
        }
    }

    fn check(keys: Vec<Field>) -> Vec<Diagnostic> {
        check_key_slots(&declaration(keys), ShebangFlags::default())
    }

    #[test]
    fn zero_or_one_key_needs_no_proof() {
        assert!(check(vec![]).is_empty());
        assert!(check(vec![Field::single("only")]).is_empty());
    }

    #[test]
    fn same_expression_is_proven() {
        let template = "{{bank:{bank}}}:acct:{}";
        assert!(check(vec![key("from", template), key("to", template)]).is_empty());
        // `{from}` in another key is the same expression as `{}` in `from`'s own template.
        assert!(check(vec![key("from", "{{{}}}:a"), key("to", "{{{from}}}:b:{}")]).is_empty());
    }

    #[test]
    fn literal_tags_are_hashed_at_compile_time() {
        assert!(check(vec![key("a", "{{x}}:{}"), key("b", "{{x}}:{}:y")]).is_empty());
        // Different texts, same slot: `foo` and `{foo}` hash `foo` alike is not the case here,
        // but two tags with equal CRC16 mod 16384 are co-located.
        let same_slot = (0..)
            .map(|n| format!("t{n}"))
            .find(|text| text != "t0" && hash_slot(text.as_bytes()) == hash_slot(b"t0"))
            .unwrap();
        assert!(
            check(vec![
                key("a", "{{t0}}"),
                key("b", &format!("{{{{{same_slot}}}}}"))
            ])
            .is_empty()
        );

        let diagnostics = check(vec![key("a", "{{a}}:{}"), key("b", "{{b}}:{}")]);
        assert_eq!(diagnostics.len(), 1);
        let message = &diagnostics[0].message;
        assert!(
            message.contains("slot 15495") && message.contains("slot 3300"),
            "{message}"
        );
        assert!(
            message.contains("`b`") && message.contains("`a`"),
            "{message}"
        );
        assert_eq!(diagnostics[0].blame, Blame::Key(1));
    }

    #[test]
    fn plain_keys_are_unprovable_and_each_is_blamed() {
        let diagnostics = check(vec![Field::single("from"), Field::single("to")]);
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(diagnostics[0].blame, Blame::Key(0));
        assert_eq!(diagnostics[1].blame, Blame::Key(1));
        let first = &diagnostics[0];
        assert!(first.message.contains("CROSSSLOT"), "{}", first.message);
        assert!(
            first.help.contains(r#"#[key("{{{shard}}}:from:{}")] from"#),
            "{}",
            first.help
        );
        assert!(first.help.contains("no-cluster") && first.help.contains("standalone_only"));
        assert!(!first.help.contains("allow-cross-slot-keys"));
        assert!(
            diagnostics[1]
                .help
                .starts_with("give `to` the same hash tag"),
            "{}",
            diagnostics[1].help
        );
    }

    #[test]
    fn a_plain_key_next_to_a_tagged_one_gets_its_tag_suggested() {
        let diagnostics = check(vec![key("from", "{{bank:{bank}}}:{}"), Field::single("to")]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].blame, Blame::Key(1));
        assert!(
            diagnostics[0]
                .help
                .contains(r#"#[key("{{bank:{bank}}}:to:{}")] to"#),
            "{}",
            diagnostics[0].help
        );
    }

    #[test]
    fn whole_key_templates_are_unprovable() {
        for template in ["{}:x", "{{}}{}", "{{a{}"] {
            let diagnostics = check(vec![key("a", "{{t}}"), key("b", template)]);
            assert_eq!(diagnostics.len(), 1, "{template}");
            assert!(diagnostics[0].message.contains("no hash tag"), "{template}");
        }
    }

    #[test]
    fn different_expressions_blame_the_odd_one_out() {
        let diagnostics = check(vec![
            key("a", "{{u:{user}}}:a"),
            key("b", "{{u:{}}}"),
            key("c", "{{u:{user}}}:c"),
        ]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].blame, Blame::Key(1));
        assert!(
            diagnostics[0].message.contains("`{u:{b}}`"),
            "{}",
            diagnostics[0].message
        );
        assert!(
            diagnostics[0].message.contains("`{u:{user}}`"),
            "{}",
            diagnostics[0].message
        );
        assert!(
            diagnostics[0]
                .help
                .contains(r#"#[key("{{u:{user}}}:b:{}")]"#),
            "{}",
            diagnostics[0].help
        );
        // A literal tag is not the same expression as a value's.
        assert_eq!(check(vec![key("a", "{{x}}"), key("b", "{{{}}}")]).len(), 1);
    }

    #[test]
    fn variadic_keys_count_as_several() {
        let items = |template: Option<&str>| {
            let field = Field::variadic("items");
            match template {
                Some(text) => field.with_template(KeyTemplate::parse(text).unwrap()),
                None => field,
            }
        };
        assert_eq!(check(vec![items(None)]).len(), 1);
        assert!(check(vec![items(Some("{{cart:{user}}}:{}"))]).is_empty());
        let own = check(vec![items(Some("{{{}}}"))]);
        assert_eq!(own.len(), 1);
        assert!(own[0].message.contains("each entry"), "{}", own[0].message);
        assert!(
            check(vec![
                key("a", "{{cart:{user}}}"),
                items(Some("{{cart:{user}}}:{}"))
            ])
            .is_empty()
        );
    }

    #[test]
    fn the_guard_is_off_only_when_no_value_can_move_a_tag() {
        let guard =
            |keys: Vec<Field>| needs_runtime_guard(&declaration(keys), ShebangFlags::default());
        // Literal tags before any value, in one slot.
        assert!(!guard(vec![
            key("a", "{{archive}}:{}"),
            key("b", "x{{archive}}{}:{user}")
        ]));
        let variadic =
            Field::variadic("items").with_template(KeyTemplate::parse("{{cart}}:{}").unwrap());
        assert!(!guard(vec![variadic.clone()]));
        assert!(!guard(vec![key("a", "{{cart}}{}"), variadic]));
        // Fewer than two keys: nothing to compare.
        assert!(!guard(vec![]));
        assert!(!guard(vec![key("a", "{}")]));
        // A value inside or before the tag, or ending it: `x}y` or `a{b}` moves it.
        assert!(guard(vec![
            key("a", "{{bank:{bank}}}:{}"),
            key("b", "{{bank:{bank}}}:{}")
        ]));
        assert!(guard(vec![
            key("a", "{}{{archive}}"),
            key("b", "{{archive}}:{}")
        ]));
        assert!(guard(vec![key("a", "{{{}}}"), key("b", "{{archive}}:{}")]));
        // An empty literal tag hashes the whole key, values included; an unclosed one is
        // closed by a value.
        assert!(guard(vec![key("a", "{{}}{}"), key("b", "{{archive}}:{}")]));
        assert!(guard(vec![
            key("a", "{{ab{}}}"),
            key("b", "{{archive}}:{}")
        ]));
        // Plain keys, and literal tags in different slots, are never value-independent.
        assert!(guard(vec![Field::single("a"), key("b", "{{archive}}:{}")]));
        assert!(guard(vec![key("a", "{{a}}"), key("b", "{{b}}")]));
        // Opted out: no guard at all.
        let mut standalone = declaration(vec![Field::single("a"), Field::single("b")]);
        standalone.standalone_only = true;
        assert!(!needs_runtime_guard(&standalone, ShebangFlags::default()));
        let no_cluster = ShebangFlags {
            no_cluster: true,
            ..ShebangFlags::default()
        };
        assert!(!needs_runtime_guard(
            &declaration(vec![Field::single("a"), Field::single("b")]),
            no_cluster
        ));
    }

    #[test]
    fn opt_outs_and_the_cross_slot_flag() {
        let keys = vec![Field::single("a"), Field::single("b")];
        let mut standalone = declaration(keys.clone());
        standalone.standalone_only = true;
        assert!(check_key_slots(&standalone, ShebangFlags::default()).is_empty());
        let no_cluster = ShebangFlags {
            no_cluster: true,
            ..ShebangFlags::default()
        };
        assert!(check_key_slots(&declaration(keys.clone()), no_cluster).is_empty());
        let cross = ShebangFlags {
            allow_cross_slot_keys: true,
            ..ShebangFlags::default()
        };
        let diagnostics = check_key_slots(&declaration(keys), cross);
        assert_eq!(
            diagnostics.len(),
            2,
            "allow-cross-slot-keys does not relax declared keys"
        );
        assert!(
            diagnostics[0]
                .help
                .contains("`allow-cross-slot-keys` does not help")
        );
    }
}
