//! The per-connection random salt of mysql_native_password (the proof is checked against the
//! stored hash by `snaprock-access`).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_is_printable_without_nul_or_dollar() {
        let salt = new_salt();
        assert!(salt.iter().all(|b| (0x21..0x7f).contains(b) && *b != b'$'));
        assert_ne!(salt, new_salt());
    }
}
