//! mysql_native_password: the stored form of a password and the check of a client's proof.
//!
//! The server keeps `*` + hex(SHA1(SHA1(pw))), as MySQL's `PASSWORD()` prints it. The client
//! answers `SHA1(pw) XOR SHA1(salt ‖ SHA1(SHA1(pw)))`; XOR with `SHA1(salt ‖ stored)` gives back
//! `SHA1(pw)`, whose SHA1 must equal the stored hash. The password itself is never needed.

use sha1::{Digest, Sha1};

/// The stored form of `password` (`""` for an empty password).
pub fn native_hash(password: &str) -> String {
    if password.is_empty() {
        return String::new();
    }
    let stage2 = Sha1::digest(Sha1::digest(password.as_bytes()));
    let mut text = String::with_capacity(41);
    text.push('*');
    for b in stage2 {
        text.push_str(&format!("{b:02X}"));
    }
    text
}

/// Whether `password` is the one whose stored hash is `hash`; compares in constant time.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let computed = native_hash(password);
    computed.len() == hash.len()
        && computed
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b.to_ascii_uppercase()))
            == 0
}

/// `*` followed by 40 hex digits (any case), as given to `IDENTIFIED BY PASSWORD`; upper-cased.
pub(crate) fn normalize_hash(hash: &str) -> Option<String> {
    if hash.is_empty() {
        return Some(String::new());
    }
    let hex = hash.strip_prefix('*')?;
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("*{}", hex.to_ascii_uppercase()))
}

fn decode(hash: &str) -> Option<[u8; 20]> {
    let hex = hash.strip_prefix('*')?;
    if hex.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether `proof` (the client's auth response to `salt`) shows knowledge of the password whose
/// stored hash is `hash`. An empty hash expects an empty proof.
pub fn verify_native_proof(hash: &str, salt: &[u8], proof: &[u8]) -> bool {
    if hash.is_empty() {
        return proof.is_empty();
    }
    let Some(stage2) = decode(hash) else {
        return false;
    };
    if proof.len() != 20 {
        return false;
    }
    let mut hasher = Sha1::new();
    hasher.update(salt);
    hasher.update(stage2);
    let mix = hasher.finalize();
    let stage1: Vec<u8> = proof.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect();
    let check = Sha1::digest(&stage1);
    // Constant-time comparison.
    check
        .iter()
        .zip(stage2.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_proof(password: &str, salt: &[u8]) -> Vec<u8> {
        let stage1 = Sha1::digest(password.as_bytes());
        let stage2 = Sha1::digest(stage1);
        let mut h = Sha1::new();
        h.update(salt);
        h.update(stage2);
        stage1
            .iter()
            .zip(h.finalize().iter())
            .map(|(a, b)| a ^ b)
            .collect()
    }

    #[test]
    fn hash_matches_mysql_password_function() {
        // SELECT PASSWORD('password') on MySQL 5.7.
        assert_eq!(
            native_hash("password"),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
        assert_eq!(native_hash(""), "");
    }

    #[test]
    fn verifies_a_clear_password() {
        let hash = native_hash("s3cret");
        assert!(verify_password(&hash, "s3cret"));
        assert!(verify_password(&hash.to_ascii_lowercase(), "s3cret"));
        assert!(!verify_password(&hash, "s3cret "));
        assert!(!verify_password(&hash, ""));
        assert!(verify_password("", ""));
        assert!(!verify_password("", "x"));
    }

    #[test]
    fn verifies_the_right_password_only() {
        let salt = b"0123456789abcdefghij";
        let hash = native_hash("s3cret");
        assert!(verify_native_proof(
            &hash,
            salt,
            &client_proof("s3cret", salt)
        ));
        assert!(!verify_native_proof(
            &hash,
            salt,
            &client_proof("other", salt)
        ));
        assert!(!verify_native_proof(&hash, salt, &[]));
        assert!(verify_native_proof("", salt, &[]));
        assert!(!verify_native_proof("", salt, &client_proof("x", salt)));
    }

    #[test]
    fn hashes_given_by_users_are_checked() {
        assert_eq!(
            normalize_hash("*2470c0c06dee42fd1618bb99005adca2ec9d1e19").as_deref(),
            Some("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
        );
        assert_eq!(
            normalize_hash("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"),
            None
        );
        assert_eq!(normalize_hash("*XYZ"), None);
    }
}
