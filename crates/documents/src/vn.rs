//! Vietnamese conventions for numbers and dates in administrative documents: `1.234,5` (a dot
//! groups thousands, a comma marks decimals) and "ngày 05 tháng 12 năm 2026" (Decree 30/2020:
//! a day below 10 and the months 1 and 2 are written with a leading zero).

use chrono::{Datelike, NaiveDate};

/// How many decimals a document shows at most (a value is rounded to this, half away from zero,
/// and trailing zeros are dropped: 12,5 not 12,50; 7 not 7,00).
pub const DECIMALS: u32 = 2;

/// `x` rounded to [`DECIMALS`] and written the Vietnamese way: `1.234,5`, `-0,25`, `12`.
pub fn number(x: f64) -> String {
    let scale = 10f64.powi(DECIMALS as i32);
    let rounded = (x * scale).round() / scale;
    // No "-0" for a value that rounds to zero.
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    let text = format!("{:.*}", DECIMALS as usize, rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if rounded < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// A number, or "-" when there is none.
pub fn number_or_dash(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), number)
}

/// A value with its sign: "+1,5", "-2", "0".
pub fn signed(x: f64) -> String {
    let n = number(x);
    if n.starts_with('-') || n == "0" {
        n
    } else {
        format!("+{n}")
    }
}

/// Reads a number written by [`number`] (or [`signed`]) back: `1.234,5` → 1234.5.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim().trim_start_matches('+');
    if s.is_empty() || s == "-" {
        return None;
    }
    s.replace('.', "").replace(',', ".").parse().ok()
}

/// "ngày 05 tháng 12 năm 2026", "ngày 15 tháng 02 năm 2026", "ngày 15 tháng 3 năm 2026".
pub fn date(d: NaiveDate) -> String {
    let month = if d.month() <= 2 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", d.day(), d.year())
}

/// "05/12/2026".
pub fn short_date(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

/// Roman numerals for section numbers (1 → I, 4 → IV, 14 → XIV), for 1..=3999.
pub fn roman(n: u32) -> String {
    const PARTS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (value, digits) in PARTS {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_thousands_with_dots_and_mark_decimals_with_a_comma() {
        assert_eq!(number(1234.5), "1.234,5");
        assert_eq!(number(1_234_567.0), "1.234.567");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(0.125), "0,13", "half away from zero at 2 decimals");
        assert_eq!(number(-1234.5), "-1.234,5");
        assert_eq!(number(-0.001), "0", "no negative zero");
        assert_eq!(number(999.999), "1.000");
        assert_eq!(number(45.3), "45,3");
        assert_eq!(number(100.0), "100");
        assert_eq!(signed(1.5), "+1,5");
        assert_eq!(signed(-2.0), "-2");
        assert_eq!(signed(0.0), "0");
        assert_eq!(number_or_dash(None), "-");
    }

    #[test]
    fn written_numbers_read_back() {
        for x in [0.0, 1.0, 12.5, 1234.5, -1234.57, 1_000_000.0, 0.07] {
            assert_eq!(parse_number(&number(x)), Some(x), "{x}");
        }
        assert_eq!(parse_number("+1,5"), Some(1.5));
        assert_eq!(parse_number("-"), None);
    }

    #[test]
    fn dates_follow_decree_30() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(date(d(2026, 12, 5)), "ngày 05 tháng 12 năm 2026");
        assert_eq!(date(d(2026, 2, 15)), "ngày 15 tháng 02 năm 2026");
        assert_eq!(date(d(2026, 1, 9)), "ngày 09 tháng 01 năm 2026");
        assert_eq!(date(d(2026, 3, 15)), "ngày 15 tháng 3 năm 2026");
        assert_eq!(short_date(d(2026, 3, 5)), "05/03/2026");
    }

    #[test]
    fn roman_numerals() {
        let got: Vec<String> = [1, 2, 3, 4, 5, 9, 14, 40, 2026].map(roman).into();
        assert_eq!(
            got,
            ["I", "II", "III", "IV", "V", "IX", "XIV", "XL", "MMXXVI"]
        );
    }
}
