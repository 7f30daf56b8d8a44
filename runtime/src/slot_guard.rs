//! The runtime slot guard: an invocation whose keys are in different Redis Cluster hash slots
//! is refused before anything is sent ([`Error::CrossSlot`]).
//!
//! The derive proves co-location from key templates at compile time, on the assumption that
//! values contain no braces; this checks the keys actually built. It reads them back from the
//! command (no allocation), compares their hash tags byte for byte, and computes CRC16 only
//! when two tags differ (different tags may still share a slot). A cross-slot error is the only
//! path that allocates.

use redis::{Arg, Cmd};
use redis_script_analysis::{hash_slot, hash_tag};

use crate::Error;

/// Checks the keys of an `EVALSHA sha1 numkeys key... arg...` (or `EVAL`) command, and the
/// arguments at `slot_args` (0-based `ARGV` positions): key prefixes that the script builds keys
/// from, which must carry a complete hash tag in the keys' slot.
///
/// Commands it cannot read (no `numkeys`, fewer keys than announced) pass: the server reports
/// those itself.
#[inline]
pub(crate) fn check(
    command: &Cmd,
    script: &'static str,
    slot_args: &'static [usize],
) -> Result<(), Error> {
    let mut args = command.args_iter().skip(2);
    let count = match args.next() {
        Some(Arg::Simple(numkeys)) => parse_count(numkeys),
        _ => return Ok(()),
    };
    if count + slot_args.len() < 2 {
        return Ok(());
    }
    let mut keys = command.args_iter().skip(3).take(count).filter_map(simple);
    let Some(first) = keys.next() else {
        return Ok(());
    };
    let first_tag = hash_tag(first);
    let mut first_slot = None;
    let mut same_slot = |tag: &[u8]| {
        // `hash_tag` of a tag is the tag itself (it holds no `}`), so this is the key's slot.
        tag == first_tag
            || hash_slot(tag) == *first_slot.get_or_insert_with(|| hash_slot(first_tag))
    };
    for key in keys {
        if !same_slot(hash_tag(key)) {
            return Err(cross_slot(command, count, slot_args, script));
        }
    }
    for &position in slot_args {
        let Some(prefix) = command
            .args_iter()
            .nth(3 + count + position)
            .and_then(simple)
        else {
            continue;
        };
        let tag = hash_tag(prefix);
        // Without a complete tag of its own, a key built on the prefix is hashed whole.
        if tag.len() == prefix.len() || !same_slot(tag) {
            return Err(cross_slot(command, count, slot_args, script));
        }
    }
    Ok(())
}

fn simple(arg: Arg<&[u8]>) -> Option<&[u8]> {
    match arg {
        Arg::Simple(bytes) => Some(bytes),
        _ => None,
    }
}

/// `numkeys` as the derive writes it: ASCII digits. Anything else counts as no keys.
fn parse_count(digits: &[u8]) -> usize {
    let mut count: usize = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return 0;
        }
        count = count
            .saturating_mul(10)
            .saturating_add(usize::from(digit - b'0'));
    }
    count
}

#[cold]
fn cross_slot(command: &Cmd, count: usize, slot_args: &[usize], script: &'static str) -> Error {
    let keys = command.args_iter().skip(3).take(count);
    let prefixes = slot_args
        .iter()
        .filter_map(|&position| command.args_iter().nth(3 + count + position));
    let keys_and_slots = keys
        .chain(prefixes)
        .filter_map(simple)
        .map(|key| (key.to_vec(), hash_slot(key)))
        .collect();
    Error::CrossSlot {
        script,
        keys_and_slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evalsha(keys: &[&str]) -> Cmd {
        let mut command = redis::cmd("EVALSHA");
        command.arg("sha").arg(keys.len()).arg(keys).arg("an-arg");
        command
    }

    #[test]
    fn co_located_keys_pass() {
        assert!(check(&evalsha(&[]), "S", &[]).is_ok());
        assert!(check(&evalsha(&["a", "b"][..1]), "S", &[]).is_ok());
        assert!(check(&evalsha(&["{u}:a", "{u}:b", "x{u}y"]), "S", &[]).is_ok());
        // Different tags, same slot: `foo` and `{foo}bar` both hash `foo`.
        assert!(check(&evalsha(&["foo", "{foo}bar"]), "S", &[]).is_ok());
    }

    #[test]
    fn cross_slot_keys_are_listed_with_their_slots() {
        let error = check(&evalsha(&["{u}:a", "{u}:b", "b"]), "Transfer", &[]).unwrap_err();
        let Error::CrossSlot {
            script,
            keys_and_slots,
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!(script, "Transfer");
        let slot = hash_slot(b"u");
        assert_eq!(
            keys_and_slots,
            vec![
                (b"{u}:a".to_vec(), slot),
                (b"{u}:b".to_vec(), slot),
                (b"b".to_vec(), 3300)
            ]
        );
    }

    #[test]
    fn a_brace_in_a_value_moves_the_tag() {
        // Template `{{bank:{bank}}}:acct:{}` with bank = "x}y": the tag becomes `bank:x`.
        let keys = ["{bank:x}y}:acct:1", "{bank:x}:acct:2"];
        assert!(check(&evalsha(&keys), "S", &[]).is_ok());
        let keys = ["{bank:x}y}:acct:1", "{bank:x}y}:acct:2", "{bank:z}:acct:3"];
        assert!(check(&evalsha(&keys), "S", &[]).is_err());
    }

    #[test]
    fn key_prefixes_in_argv_must_carry_the_keys_tag() {
        let with_prefix = |keys: &[&str], prefix: &str| {
            let mut command = redis::cmd("EVALSHA");
            command
                .arg("sha")
                .arg(keys.len())
                .arg(keys)
                .arg("x")
                .arg(prefix);
            command
        };
        let at_second = &[1];
        assert!(check(&with_prefix(&["{q}:wait"], "bull:{q}:"), "S", at_second).is_ok());
        // `foo` and `{foo}x` hash alike: slots are compared, not text.
        assert!(check(&with_prefix(&["{foo}:wait"], "foo{foo}"), "S", at_second).is_ok());
        let moved = check(&with_prefix(&["{q}:wait"], "bull:{r}:"), "S", at_second).unwrap_err();
        let Error::CrossSlot { keys_and_slots, .. } = moved else {
            panic!("{moved:?}")
        };
        assert_eq!(
            keys_and_slots,
            vec![
                (b"{q}:wait".to_vec(), hash_slot(b"q")),
                (b"bull:{r}:".to_vec(), hash_slot(b"r"))
            ]
        );
        // An empty tag (a value of "") leaves keys built on the prefix hashed whole.
        assert!(check(&with_prefix(&["{q}:wait"], "bull:{}:"), "S", at_second).is_err());
        assert!(check(&with_prefix(&["{q}:wait"], "bull:"), "S", at_second).is_err());
    }

    #[test]
    fn numkeys_is_read_as_digits() {
        assert_eq!(parse_count(b"12"), 12);
        assert_eq!(parse_count(b""), 0);
        assert_eq!(parse_count(b"-1"), 0);
        assert_eq!(parse_count(b"99999999999999999999999"), usize::MAX);
    }
}
