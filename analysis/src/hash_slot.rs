/// The number of hash slots in a Redis Cluster.
///
/// ```
/// use redis_script_analysis::{SLOT_COUNT, hash_slot};
///
/// assert_eq!(SLOT_COUNT, 16384);
/// assert!(hash_slot(b"any key") < SLOT_COUNT);
/// ```
pub const SLOT_COUNT: u16 = 16384;

/// The part of a key that Redis Cluster hashes: the content of the first `{...}` when that
/// content is non-empty, otherwise the whole key.
///
/// Precisely: find the first `{`; find the first `}` after it; if there is one and there is at
/// least one byte between them, hash only those bytes. `{}` and an unclosed `{` hash the whole
/// key, and later braces never matter.
///
/// ```
/// use redis_script_analysis::hash_tag;
///
/// assert_eq!(hash_tag(b"{user:1}:cart"), b"user:1");
/// assert_eq!(hash_tag(b"{}x"), b"{}x");
/// assert_eq!(hash_tag(b"a{b}c{d}"), b"b");
/// assert_eq!(hash_tag(b"}{a}"), b"a");
/// ```
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &rest[..close],
        _ => key,
    }
}

/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of its [`hash_tag`], mod 16384.
///
/// ```
/// use redis_script_analysis::hash_slot;
///
/// assert_eq!(hash_slot(b"foo"), 12182); // CLUSTER KEYSLOT foo
/// assert_eq!(hash_slot(b"{foo}:a"), hash_slot(b"{foo}:b"));
/// ```
pub fn hash_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) % SLOT_COUNT
}
