//! What a password must be (NIST SP 800-63B, 5.1.1.2): at least [`MIN_CHARS`] characters after
//! NFKC normalisation, at most [`MAX_CHARS`]; not only spaces or invisible characters; not one
//! character repeated or a run like `123456789012`; not the username (or containing it); not one
//! of the common passwords shipped with the binary (`data/common-passwords.txt`). No other
//! composition rules: a long passphrase in Vietnamese is welcome.

use std::collections::HashSet;
use std::sync::OnceLock;

use innoreport_core::validation::Issue;
use unicode_normalization::UnicodeNormalization;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

const COMMON: &str = include_str!("../data/common-passwords.txt");

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

/// A run of consecutive characters up or down (`abcdef…`, `987654…`), or one character repeated.
fn trivial(chars: &[char]) -> bool {
    if chars.windows(2).all(|w| w[0] == w[1]) {
        return true;
    }
    let up = chars.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1);
    let down = chars.windows(2).all(|w| w[0] as u32 == w[1] as u32 + 1);
    // "1234567890" wraps: treat 0 after 9 as the next digit.
    let digits_up = chars.windows(2).all(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && (w[0] as u8 - b'0' + 1) % 10 == w[1] as u8 - b'0'
    });
    up || down || digits_up
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
    if common().contains(lower.trim()) {
        issues.push(Issue::new(
            field,
            "common_password",
            "this password is among the most common ones; choose another",
        ));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn a_long_passphrase_passes_whatever_its_letters() {
        assert!(codes("mặt trời mọc ở đằng đông").is_empty());
        assert!(codes("Sơn La 2026 — báo cáo quý").is_empty());
        assert!(codes("correct horse battery staple").is_empty());
    }
}
