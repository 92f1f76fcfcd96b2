//! mysql_native_password: per-connection random salt and verification of the client's proof.

use sha1::{Digest, Sha1};

/// 20 random printable bytes (no NUL, no `$`), fresh for every connection.
pub fn new_salt() -> [u8; 20] {
    let mut salt = [0u8; 20];
    for b in &mut salt {
        loop {
            let c: u8 = rand::random_range(0x21..0x7f);
            if c != b'$' {
                *b = c;
                break;
            }
        }
    }
    salt
}

/// Checks `SHA1(pw) XOR SHA1(salt ‖ SHA1(SHA1(pw)))` against the client's answer; an empty
/// password expects an empty answer.
pub fn verify_native_password(password: &str, salt: &[u8], auth_data: &[u8]) -> bool {
    if password.is_empty() {
        return auth_data.is_empty();
    }
    if auth_data.len() != 20 {
        return false;
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut hasher = Sha1::new();
    hasher.update(salt);
    hasher.update(stage2);
    let mix = hasher.finalize();
    // Constant-time comparison.
    let diff = stage1
        .iter()
        .zip(mix.iter())
        .zip(auth_data)
        .fold(0u8, |acc, ((a, b), c)| acc | ((a ^ b) ^ c));
    diff == 0
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
    fn verifies_the_right_password_only() {
        let salt = new_salt();
        assert!(salt.iter().all(|b| *b != 0 && *b != b'$'));
        let proof = client_proof("s3cret", &salt);
        assert!(verify_native_password("s3cret", &salt, &proof));
        assert!(!verify_native_password("other", &salt, &proof));
        assert!(verify_native_password("", &salt, &[]));
        assert!(!verify_native_password("", &salt, &proof));
    }
}
