//! Passwords for PKCS#12 stores (and for anything else that needs one).

use rand::RngExt;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";
const LENGTH: usize = 32;

/// 32 random letters and digits, starting with a letter: safe in any configuration file or
/// command line without quoting, as Strimzi's passwords are. Drawn from the operating system's
/// generator itself: nothing about a password lives in this process before it is made (a panic
/// if the system cannot give randomness, which no password may do without).
pub fn generate_password() -> String {
    let mut rng = UnwrapErr(SysRng);
    let alphabet = [LETTERS, DIGITS].concat();
    let first = LETTERS[rng.random_range(0..LETTERS.len())];
    let rest = (1..LENGTH).map(|_| alphabet[rng.random_range(0..alphabet.len())]);
    std::iter::once(first).chain(rest).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_alphanumeric_and_start_with_a_letter() {
        let password = generate_password();
        assert_eq!(password.len(), 32);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(password.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert_ne!(password, generate_password());
    }
}
