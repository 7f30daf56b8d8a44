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

/// Checks the keys of an `EVALSHA sha1 numkeys key... arg...` (or `EVAL`) command.
///
/// Commands it cannot read (no `numkeys`, fewer keys than announced) pass: the server reports
/// those itself.
#[inline]
pub(crate) fn check(command: &Cmd, script: &'static str) -> Result<(), Error> {
    let mut args = command.args_iter().skip(2);
    let count = match args.next() {
        Some(Arg::Simple(numkeys)) => parse_count(numkeys),
        _ => return Ok(()),
    };
    if count < 2 {
        return Ok(());
    }
    let mut keys = args.take(count).filter_map(simple);
    let Some(first) = keys.next() else {
        return Ok(());
    };
    let first_tag = hash_tag(first);
    let mut first_slot = None;
    for key in keys {
        let tag = hash_tag(key);
        if tag == first_tag {
            continue;
        }
        // `hash_tag` of a tag is the tag itself (it holds no `}`), so this is the key's slot.
        let expected = *first_slot.get_or_insert_with(|| hash_slot(first_tag));
        if hash_slot(tag) != expected {
            return Err(cross_slot(command, count, script));
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
fn cross_slot(command: &Cmd, count: usize, script: &'static str) -> Error {
    let keys_and_slots = command
        .args_iter()
        .skip(3)
        .take(count)
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
        assert!(check(&evalsha(&[]), "S").is_ok());
        assert!(check(&evalsha(&["a", "b"][..1]), "S").is_ok());
        assert!(check(&evalsha(&["{u}:a", "{u}:b", "x{u}y"]), "S").is_ok());
        // Different tags, same slot: `foo` and `{foo}bar` both hash `foo`.
        assert!(check(&evalsha(&["foo", "{foo}bar"]), "S").is_ok());
    }

    #[test]
    fn cross_slot_keys_are_listed_with_their_slots() {
        let error = check(&evalsha(&["{u}:a", "{u}:b", "b"]), "Transfer").unwrap_err();
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
        assert!(check(&evalsha(&keys), "S").is_ok());
        let keys = ["{bank:x}y}:acct:1", "{bank:x}y}:acct:2", "{bank:z}:acct:3"];
        assert!(check(&evalsha(&keys), "S").is_err());
    }

    #[test]
    fn numkeys_is_read_as_digits() {
        assert_eq!(parse_count(b"12"), 12);
        assert_eq!(parse_count(b""), 0);
        assert_eq!(parse_count(b"-1"), 0);
        assert_eq!(parse_count(b"99999999999999999999999"), usize::MAX);
    }
}
