//! What a password must be (NIST SP 800-63B, 5.1.1.2): at least [`MIN_CHARS`] characters after
//! NFKC normalisation, at most [`MAX_CHARS`]; not only spaces or invisible characters; not one
//! character repeated or a run like `123456789012`; not the username (or containing it); not one
//! of the common passwords shipped with the binary (`data/common-passwords.txt`). No other
//! composition rules: a long passphrase in Vietnamese is welcome.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use innoreport_core::validation::Issue;
use unicode_normalization::UnicodeNormalization;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

const COMMON: &str = include_str!("../data/common-passwords.txt");
const BASES: &str = include_str!("../data/common-bases.txt");

fn bases() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        BASES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether a password is a common word with digits or symbols around it (`Password123!`,
/// `P@ssw0rd2026`, `2026dragon!!`): what is left once the digits and symbols at both ends are
/// removed, read as it is or with the usual look-alike digits and symbols read as letters.
fn dressed_common_word(lower: &str) -> bool {
    let plain = lower.trim_matches(|c: char| !c.is_alphabetic());
    let leet: String = lower
        .trim_matches(|c: char| !c.is_alphabetic() && !matches!(c, '@' | '$'))
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect();
    bases().contains(plain) || bases().contains(leet.as_str())
}

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Invisible: whitespace, controls and format characters (zero-width spaces, joiners, marks).
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' | '\u{034F}')
}

/// Keyboard rows, as typed left to right (a walk along one of them is no secret).
const KEYBOARD: &str = "1234567890qwertyuiopasdfghjklzxcvbnm";

/// One character repeated, a short pattern repeated (`abababababab`), a run of consecutive
/// characters up or down (`abcdef…`, `987654…`, digits wrapping after 9 or 0), or a walk along
/// the keyboard's rows (`qwertyuiopas`).
fn trivial(chars: &[char]) -> bool {
    let n = chars.len();
    if (1..=4).any(|unit| n >= 2 * unit && (unit..n).all(|i| chars[i] == chars[i - unit])) {
        return true;
    }
    let step = |d: i32| chars.windows(2).all(|w| w[1] as i32 - w[0] as i32 == d);
    let digit = |c: char| c.to_digit(10).map(|d| d as i32);
    let digits = |d: i32| {
        chars.windows(2).all(|w| match (digit(w[0]), digit(w[1])) {
            (Some(a), Some(b)) => (a + d).rem_euclid(10) == b,
            _ => false,
        })
    };
    let text: String = chars.iter().collect();
    let reversed: String = KEYBOARD.chars().rev().collect();
    step(1)
        || step(-1)
        || digits(1)
        || digits(-1)
        || KEYBOARD.contains(&text)
        || reversed.contains(&text)
}

/// Every problem of `password` for the login `username` (field `field`).
pub fn check(password: &str, username: &str, field: &str) -> Vec<Issue> {
    let normal: String = password.nfkc().collect();
    let chars: Vec<char> = normal.chars().collect();
    let mut issues = Vec::new();
    if chars.len() < MIN_CHARS {
        issues.push(Issue::new(
            field,
            "too_short",
            format!("a password has at least {MIN_CHARS} characters"),
        ));
    }
    if chars.len() > MAX_CHARS {
        issues.push(Issue::new(
            field,
            "too_long",
            format!("a password has at most {MAX_CHARS} characters"),
        ));
    }
    if chars.iter().all(|c| invisible(*c)) {
        issues.push(Issue::new(
            field,
            "blank",
            "a password cannot be only spaces or invisible characters",
        ));
        return issues;
    }
    let lower = normal.to_lowercase();
    let visible: Vec<char> = lower.chars().filter(|c| !invisible(*c)).collect();
    if trivial(&visible) {
        issues.push(Issue::new(
            field,
            "too_simple",
            "a password cannot be one character repeated or a run like 123456789012",
        ));
    }
    let user = crate::signin::normalise_username(username);
    if !user.is_empty() && (lower == user || (user.chars().count() >= 4 && lower.contains(&user))) {
        issues.push(Issue::new(
            field,
            "contains_username",
            "a password cannot be or contain the username",
        ));
    }
    if common().contains(lower.trim()) || dressed_common_word(lower.trim()) {
        issues.push(Issue::new(
            field,
            "common_password",
            "this password is among the most common ones; choose another",
        ));
    }
    issues
}

/// `n` random bytes, base64url.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing succeeds")
        .to_string()
}

/// Checks a password against a stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist.
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("innoreport-no-such-user"))
}

/// A generated password: 20 characters of base64url (120 bits).
pub fn generated_password() -> String {
    random_token(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    fn codes(password: &str) -> Vec<String> {
        check(password, "victim14", "password")
            .into_iter()
            .map(|i| i.code)
            .collect()
    }

    #[test]
    fn the_weak_passwords_of_the_review_are_refused_naming_the_rule() {
        let has = |p: &str, code: &str| codes(p).iter().any(|c| c == code);
        assert_eq!(codes("            "), vec!["blank"]);
        assert_eq!(codes(&"\u{200B}".repeat(12)), vec!["blank"]);
        assert!(has("aaaaaaaaaaaa", "too_simple"));
        assert!(has("123456789012", "too_simple"));
        assert!(has("abcdefghijklm", "too_simple"));
        assert!(has("Victim14Victim14", "contains_username"));
        assert!(has("victim14", "too_short"));
        assert!(has("qwerty123456", "common_password"));
        assert!(has("Qwerty123456", "common_password"), "case does not help");
        assert!(has(&"xy".repeat(150), "too_long"));
        // The outside review's second round.
        assert!(has("987654321098", "too_simple"), "digits down, wrapping");
        assert!(has("abababababab", "too_simple"));
        assert!(has("abcabcabcabc", "too_simple"));
        assert!(
            has("qwertyuiopas", "too_simple"),
            "a walk along the keyboard"
        );
        assert!(has("lkjhgfdsapoi", "too_simple"), "and back");
        assert!(has("Password123!", "common_password"));
        assert!(has("P@ssw0rd2026", "common_password"));
        assert!(has("2026dragon!!", "common_password"));
        assert!(has("matkhau@2026", "common_password"));
    }

    #[test]
    fn a_long_passphrase_passes_whatever_its_letters() {
        assert!(codes("mặt trời mọc ở đằng đông").is_empty());
        assert!(codes("Sơn La 2026 — báo cáo quý").is_empty());
        assert!(codes("correct horse battery staple").is_empty());
        assert!(
            codes("dragon-boat-hanoi-2026").is_empty(),
            "common words in a phrase are fine"
        );
        assert!(codes("7h3 qu1ck br0wn f0x").is_empty());
    }
}
