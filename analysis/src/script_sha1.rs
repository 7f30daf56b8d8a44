use sha1::{Digest, Sha1};

/// The name Redis gives a script: the lowercase hex SHA1 of its exact source, shebang included.
///
/// ```
/// assert_eq!(
///     redis_script_analysis::script_sha1("return 1"),
///     "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
/// );
/// ```
pub fn script_sha1(source: &str) -> String {
    let digest = Sha1::digest(source.as_bytes());
    let mut hex = String::with_capacity(40);
    for byte in digest {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        hex.push(DIGITS[usize::from(byte >> 4)] as char);
        hex.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    hex
}
